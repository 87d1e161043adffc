"""Build a classifier for training, and rebuild the same one from a model file.

``NetSpec`` is everything needed to construct the modules again (no weights): it is stored in
the model file's metadata, and ``rebuild`` turns it back into a network with the same
parameter names and shapes, without fastai and without downloading anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from petclf.model import backbones
from petclf.model.backbones import Arch

if TYPE_CHECKING:
    from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class NetSpec:
    arch: str
    source: str  # "torchvision" or "timm"
    n_classes: int
    n_features: int
    pool: bool  # the body puts out a feature map (the head pools it)
    cut: int | None  # torchvision: children kept; timm: None (forward_features)
    n_in: int = 3
    head: str = "mlp"  # fastai's head; "linear": one linear layer (a ridge member's)
    levels: list[int] | None = None  # the feature levels the body pools (LevelPool); None: its last output
    views: int = 1  # images side by side in each input, which a LevelPool body takes one at a time
    # A linear head that also reads MiniRocket's features of the series (series/rocket.py): their shape,
    # {"channels", "dilations", "features"} (features a kernel at each dilation); None: it does not
    rocket: dict | None = None


HEADS = ("mlp", "linear")


def build(arch: Arch, n_classes: int, backbone: nn.Module | None = None, n_in: int = 3,
          head: str = "mlp", views: int = 1, rocket: nn.Module | None = None) -> tuple[nn.Module, NetSpec]:
    """A new classifier: ``backbone`` (``weights.pretrained_backbone``; random when None), cut,
    and a fresh head. A linear head (a ridge member's) reads the body's middle feature levels,
    pooled, of each of the input's ``views``, and with a fitted ``rocket`` (series/rocket.py)
    MiniRocket's features of the series too."""
    if backbone is None:
        backbone = backbones.create_backbone(arch, n_in)
    index = backbones.cut_index(backbone)
    levels = backbones.middle_levels(backbone, index, n_in) if head == "linear" else None
    body = backbones.cut(backbone, index, levels, views)
    n_features, pool = backbones.count_features(body, n_in, views if levels else 1)
    shape = rocket and {"channels": rocket.masks.shape[-1], "dilations": rocket.dilation_list,
                        "features": rocket.features_per}
    spec = NetSpec(arch.name, arch.source, n_classes, n_features, pool, index, n_in, head, levels,
                   views if levels else 1, shape)
    return _with_rocket(backbones.classifier(body, n_features, n_classes, pool, head), rocket), spec


def rebuild(spec: NetSpec) -> nn.Module:
    backbone = backbones.create_backbone(Arch(spec.arch, spec.source), spec.n_in)
    body = backbones.cut(backbone, spec.cut, spec.levels, spec.views)
    net = backbones.classifier(body, spec.n_features, spec.n_classes, spec.pool, spec.head)
    if spec.rocket is None:
        return net
    from petclf.series.rocket import MiniRocket

    shape = spec.rocket
    return _with_rocket(net, MiniRocket(shape["channels"], shape["dilations"], shape["features"]))


def _with_rocket(net: nn.Sequential, rocket: nn.Module | None) -> nn.Sequential:
    """``net`` whose linear head also reads ``rocket``'s features (when given)."""
    if rocket is None:
        return net
    from torch import nn

    from petclf.model.layers import RocketHead

    linear = net[-1][-1]
    net[-1] = RocketHead(rocket, nn.Linear(linear.in_features + rocket.n_features, linear.out_features))
    return net


def normalization(arch: Arch) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std the pretrained weights expect (timm's per-model config; ImageNet's
    for torchvision). Used with random weights too, so every model sees inputs of one scale."""
    if arch.source == "timm":
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(arch.name)
        if cfg is not None:
            return tuple(cfg.mean), tuple(cfg.std)
    return IMAGENET_MEAN, IMAGENET_STD

