"""Where a model looked: Grad-CAM (Selvaraju et al., 2017) over the backbone's last feature map.

The gradient of the chosen class's score weighs each feature channel; their weighted sum,
clipped at zero and stretched to the input's size, is the heat-map (an ensemble averages its
members'). For a series the map lies over its field image, where pixel (i, j) relates times i
and j: the mean of row t and column t folds it back onto time t, so the attention can be drawn
over the curve itself. Gradients need the torch model: an ONNX export cannot be explained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petclf.errors import UsageError
from petclf.inference import Classifier

FINE_MAP = 7  # a heat-map coarser than 7 x 7 (ResNet's at 224 px) says little of where the model looked


@dataclass(frozen=True)
class Explanation:
    cams: np.ndarray  # (n, H, W) in [0, 1], over the image the model saw
    images: np.ndarray  # (n, H, W, 3) uint8: that image
    target: list[int]  # the class explained, per item
    probs: np.ndarray  # (n, n_classes)
    layer: str = ""  # the body's layer the maps come from (cam_layer)
    map_size: tuple[int, int] = (0, 0)  # its feature map's height and width: the heat-map's real resolution


def explain(classifier: Classifier, batch: np.ndarray, target: str | None = None) -> Explanation:
    """Grad-CAM of ``target`` (a class name; default: each item's prediction) for a batch as
    ``predict`` reads it (uint8 pixels, or series)."""
    import torch

    from petclf.model.layers import Ensemble

    if classifier.model is None:
        raise UsageError("explain needs the model file (.safetensors): an ONNX export has no gradients")
    wrapper = classifier.model
    classes = classifier.meta.classes
    if target is not None and target not in classes:
        raise UsageError(f"--class {target!r} is not one of the model's classes ({', '.join(classes)})")
    x = torch.from_numpy(batch).to(next(wrapper.parameters()).device)
    with torch.no_grad():
        probs = wrapper(x).cpu().numpy()
    chosen = [classes.index(target)] * len(x) if target else probs.argmax(1).tolist()
    nets = list(wrapper.model.members) if isinstance(wrapper.model, Ensemble) else [wrapper.model]
    if wrapper.pixels:
        x = x.permute(0, 3, 1, 2).float() * wrapper.scale + wrapper.shift
    found = [_grad_cam(net, x, chosen) for net in nets]
    images = batch if wrapper.pixels else _stem_pixels(nets[0][0], x)
    _, layer, side = found[0]
    return Explanation(np.mean([cam for cam, _, _ in found], axis=0), images, chosen, probs, layer or "(body)", side)


def distinct_names(paths: list) -> list[str]:
    """A name per input for its heat-map: the file's stem, with as many of its folders before it
    as it takes to tell it from the others (``rocket/t000.jpg`` and ``coffee/t000.jpg`` give
    ``rocket_t000`` and ``coffee_t000``), and a number for a file given twice."""
    from pathlib import Path

    parts = [Path(p).with_suffix("").parts for p in paths]
    depth = [1] * len(parts)
    while True:
        names = ["_".join(part[-d:]) for part, d in zip(parts, depth, strict=True)]
        clashing = [i for i, name in enumerate(names) if names.count(name) > 1 and depth[i] < len(parts[i])]
        if not clashing:
            break
        for i in clashing:
            depth[i] += 1
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        names[i] = name if seen[name] == 1 else f"{name}-{seen[name]}"
    return names


def _grad_cam(net, x, chosen: list[int]) -> tuple[np.ndarray, str, tuple[int, int]]:
    """One network's maps, over the image its stem makes (series) or ``x`` itself (images), and
    the layer they come from with its map's size."""
    import torch
    import torch.nn.functional as F

    from petclf.model.layers import head_output

    with torch.no_grad():
        image = net[:-2](x) if len(net) > 2 else x
    body = net[-2]
    name, layer, side = cam_layer(body, image)
    kept = {}

    def keep(module, inputs, output):
        if not output.requires_grad:  # frozen weights: the graph starts here
            output = output.detach().requires_grad_()
        kept["features"] = output
        return output

    handle = layer.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            scores = head_output(net[-1], body(image), x).float()  # a RocketHead's MiniRocket part: constant
            scores = scores.gather(1, torch.tensor(chosen, device=x.device)[:, None]).sum()
            features = kept["features"]
            grads, = torch.autograd.grad(scores, features)
    finally:
        handle.remove()
    features, grads = features.detach().float(), grads.float()
    cam = F.relu((grads.mean((2, 3), keepdim=True) * features).sum(1, keepdim=True))
    views = getattr(body, "views", 1)  # a LevelPool body ran each view as an item of its own
    cam = cam.unflatten(0, (views, -1)).movedim(0, 3).flatten(3, 4)  # (V * B, 1, h, w) to (B, 1, h, V * w)
    cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    cam = cam / cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
    return cam.cpu().numpy(), name, side


def cam_layer(body, image, finest: int = FINE_MAP) -> tuple[str, object, tuple[int, int]]:
    """The body's stage to explain from: the deepest whose feature map is at least ``finest``
    pixels a side, else the finest there is. The body's own output is 2 x 2 for a 64 px input
    (32-fold smaller), where Grad-CAM paints one blur over everything. Stages are what timm
    lists in ``feature_info`` (the outputs it offers as features), or a torchvision body's
    children (conv1 ... layer4); the body's own output is the last."""
    import torch

    stages = _stages(body)
    fired: list[tuple[str, object, tuple[int, int]]] = []
    handles = [module.register_forward_hook(
        lambda m, i, out, name=name: fired.append((name, m, tuple(out.shape[-2:])))
        if isinstance(out, torch.Tensor) and out.dim() == 4 else None)
        for name, module in body.named_modules() if name in stages]
    try:
        with torch.no_grad():
            body(image[:1])
    finally:
        for handle in handles:
            handle.remove()
    if not fired:
        raise UsageError("explain needs a convolutional backbone: this one gives no feature map")
    fine = [entry for entry in fired if min(entry[2]) >= finest]
    return fine[-1] if fine else max(fired, key=lambda entry: min(entry[2]))


def _stages(body) -> set[str]:
    inner = getattr(body, "model", None)  # TimmBody's or LevelPool's model; else a torchvision body itself
    info = getattr(inner, "feature_info", None)
    if info:
        return {"", *(f"model.{entry['module']}" for entry in info)}
    if inner is not None:
        return {"", *(f"model.{name}" for name, _ in inner.named_children())}
    return {"", *(name for name, _ in body.named_children())}


def _stem_pixels(stem, x) -> np.ndarray:
    """The image a series model's stem makes, as uint8 RGB (its normalisation undone)."""
    import torch

    with torch.no_grad():
        unit = stem(x) * stem.std + stem.mean
    return (unit.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def time_attention(cam: np.ndarray, channels: int, length: int, method: str = "gadf") -> np.ndarray:
    """A series map ``(H, W)`` folded onto time ``(channels, length)``, from its first view
    (``method``'s): ``mat``, each channel's band of rows, its column t; ``seg``, each channel's
    tile read row by row as the series was folded; a field, the mean of each tile's row t and
    column t. Scaled to a maximum of 1."""
    from petclf.series.gaf import mosaic_shape

    view = method.split(",")[0]
    if view == "mat":
        bands = np.array_split(cam[:, :cam.shape[0]], channels, axis=0)
        folded = np.array([_stretch(band.mean(0), length) for band in bands])
        return folded / max(folded.max(), 1e-12)
    rows, cols = mosaic_shape(channels)
    side = cam.shape[0] // rows
    folded = []
    for channel in range(channels):
        r, c = divmod(channel, cols)
        tile = cam[r * side:(r + 1) * side, c * side:(c + 1) * side]
        folded.append(_unfolded(tile, length) if view == "seg" else _stretch((tile.mean(0) + tile.mean(1)) / 2, length))
    folded = np.array(folded)
    return folded / max(folded.max(), 1e-12)


def _stretch(values: np.ndarray, length: int) -> np.ndarray:
    return np.interp(np.linspace(0, len(values) - 1, length), np.arange(len(values)), values)


def _unfolded(tile: np.ndarray, length: int) -> np.ndarray:
    """A ``seg`` tile back on time: resized to its ceil(sqrt(L)) grid, read row by row."""
    import math

    from PIL import Image

    side = math.ceil(math.sqrt(length))
    grid = np.asarray(Image.fromarray(tile.astype(np.float32)).resize((side, side), Image.Resampling.BILINEAR))
    return grid.reshape(-1)[:length]
