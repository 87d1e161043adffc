"""Build a classifier for training, and rebuild the same one from a model file.

``NetSpec`` is everything needed to construct the modules again (no weights): it is stored in
the model file's metadata, and ``rebuild`` turns it back into a network with the same
parameter names and shapes, without fastai and without downloading anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from petclf.model import backbones
from petclf.model.backbones import Arch

if TYPE_CHECKING:
    from torch import nn

    from petclf.model.weights import Weights

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


def build(arch: Arch, n_classes: int, weights: Weights | None, n_in: int = 3) -> tuple[nn.Module, NetSpec]:
    """A new classifier: the backbone (with ``weights`` when given), cut, and a fresh head."""
    from petclf.model.weights import load_into

    backbone = backbones.create_backbone(arch, n_in)
    if weights is not None:
        load_into(backbone, weights.state, weights.origin, drop=_classifier_keys(backbone, arch))
    index = backbones.cut_index(backbone)
    body = backbones.cut(backbone, index)
    n_features, pool = backbones.count_features(body, n_in)
    spec = NetSpec(arch.name, arch.source, n_classes, n_features, pool, index, n_in)
    return backbones.classifier(body, n_features, n_classes, pool), spec


def rebuild(spec: NetSpec) -> nn.Module:
    backbone = backbones.create_backbone(Arch(spec.arch, spec.source), spec.n_in)
    body = backbones.cut(backbone, spec.cut)
    return backbones.classifier(body, spec.n_features, spec.n_classes, spec.pool)


def normalization(arch: Arch) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std the pretrained weights expect (timm's per-model config; ImageNet's
    for torchvision). Used with random weights too, so every model sees inputs of one scale."""
    if arch.source == "timm":
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(arch.name)
        if cfg is not None:
            return tuple(cfg.mean), tuple(cfg.std)
    return IMAGENET_MEAN, IMAGENET_STD


def _classifier_keys(backbone: nn.Module, arch: Arch) -> Callable[[str], bool]:
    """timm bodies are built without a classifier, so its weights in a checkpoint are dropped;
    a torchvision backbone keeps its classifier until ``cut``, so nothing is."""
    if arch.source != "timm":
        return lambda key: False
    name = backbone.pretrained_cfg.get("classifier") or "classifier"
    prefix = name if isinstance(name, str) else name[0]
    return lambda key: key.startswith(prefix)
