"""Architecture names to networks: torchvision and timm backbones, cut and topped with
fastai's classification head.

petclf builds the network itself (rather than through fastai's ``vision_learner``) so that
training and ``predict`` share one constructor: ``predict`` rebuilds exactly the same modules
from a model file's metadata without importing fastai, and the weights load by name.

The layout follows fastai: ``nn.Sequential(body, head)``. A torchvision body is the model's
children up to its last pooling layer; a timm body runs ``forward_features``. The head is
fastai's ``create_head`` defaults: concat pooling (max, avg), BN-dropout-linear to 512, ReLU,
BN-dropout-linear to the classes.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from petclf.errors import UsageError

if TYPE_CHECKING:
    from torch import nn

SOURCES = ("torchvision", "timm")


@dataclass(frozen=True)
class Arch:
    """A backbone by name. ``resnet34`` is torchvision's (as in the fast.ai book) when both
    libraries have the name; ``timm:resnet34`` picks timm's."""

    name: str
    source: str


def find_arch(spec: str) -> Arch:
    import timm
    import torchvision

    source, _, name = spec.rpartition(":")
    tv_names = set(torchvision.models.list_models(module=torchvision.models))
    if source not in ("", *SOURCES):
        raise UsageError(f"--arch {spec!r}: the prefix must be one of {', '.join(SOURCES)}")
    if source in ("", "torchvision") and name in tv_names:
        return Arch(name, "torchvision")
    if source in ("", "timm") and timm.is_model(name):
        return Arch(name, "timm")
    known = sorted(tv_names | set(timm.list_models()))
    close = difflib.get_close_matches(name, known, n=4, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else " (see timm.list_models())"
    raise UsageError(f"--arch: unknown architecture {spec!r}{hint}")


def create_backbone(arch: Arch, n_in: int = 3) -> nn.Module:
    """The whole pretrained-shape network, classifier included (torchvision) or removed (timm),
    with random weights: the weight file is loaded into this, then ``cut`` makes the body."""
    if arch.source == "timm":
        import timm

        return timm.create_model(arch.name, pretrained=False, num_classes=0, in_chans=n_in)
    import torchvision

    return torchvision.models.get_model(arch.name, weights=None)


def fixed_size(arch: Arch, size: int | None, tiles: tuple[int, int] = (1, 1)) -> int | None:
    """The ``size`` that a timm model taking one input side only (ViT, DeiT, Swin: their position
    embeddings are fixed) needs, refusing another one given; None for a model that takes any size.
    A series image is a ``tiles`` grid of ``size`` px fields."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch.name) if arch.source == "timm" else None
    if cfg is None or not cfg.fixed_input_size:
        return None
    side = cfg.input_size[-1]
    rows, cols = tiles
    if rows != cols or side % rows:
        raise UsageError(f"--arch {arch.name} takes {side} x {side} px images only, which a series image of "
                         f"{rows} x {cols} fields cannot be: choose a model without a fixed input size")
    if size not in (None, side // rows):
        raise UsageError(f"--arch {arch.name} takes {side} x {side} px images only: leave out --size "
                         f"(or pass --size {side // rows})")
    return side // rows


def cut_index(backbone: nn.Module) -> int | None:
    """fastai's rule: a torchvision body ends before its last child that contains a pooling layer."""
    if hasattr(backbone, "forward_features"):
        return None
    children = list(backbone.children())
    for index in range(len(children) - 1, -1, -1):
        if any(re.search(r"Pool[123]d$", type(m).__name__) for m in children[index].modules()):
            return index
    raise UsageError(f"--arch {type(backbone).__name__}: no pooling layer to cut the classifier off at")


def cut(backbone: nn.Module, index: int | None, levels: list[int] | None = None, views: int = 1) -> nn.Module:
    """The body: what ``cut_index`` keeps, or, given ``levels``, the pooled features of those
    levels (``LevelPool``: a ridge member's)."""
    from petclf.model.layers import LevelPool, TimmBody

    kept = _kept(backbone, index)
    if levels:
        return LevelPool(kept, levels, views)
    return TimmBody(kept) if index is None else kept


def middle_levels(backbone: nn.Module, index: int | None, n_in: int = 3) -> list[int]:
    """Every feature level but the first and the last (of five: 1, 2 and 3), which won on held-out
    halves of UCR training files (bench/results/ucr-probe.md)."""
    from petclf.model.layers import feature_levels

    count = feature_levels(_kept(backbone, index), n_in)
    return list(range(1, count - 1)) if count > 2 else list(range(count))


def _kept(backbone: nn.Module, index: int | None) -> nn.Module:
    """What a body keeps of ``backbone``: a timm model whole, a torchvision one's first ``index`` children."""
    from torch import nn

    return backbone if index is None else nn.Sequential(*list(backbone.children())[:index])


def classifier(body: nn.Module, n_features: int, n_classes: int, pool: bool, head: str = "mlp") -> nn.Sequential:
    """The body and a head: fastai's ("mlp"), or pooling and one linear layer ("linear")."""
    from torch import nn

    from petclf.model.layers import create_head, linear_head

    made = linear_head if head == "linear" else create_head
    return nn.Sequential(body, made(n_features, n_classes, pool))


def count_features(body: nn.Module, n_in: int = 3, views: int = 1) -> tuple[int, bool]:
    """Channels the body puts out, and whether they are a feature map that needs pooling:
    timm says so itself; another body is run once on a 64 px input (a view), as fastai does."""
    import torch

    if hasattr(body, "needs_pool"):
        return body.model.num_features, body.needs_pool
    was_training = body.training
    body.eval()
    with torch.no_grad():
        out = body(torch.zeros(1, n_in, 64, 64 * views))
    body.train(was_training)
    return out.shape[1], out.dim() == 4
