"""The knobs of fine-tuning beyond the learning rate and the epochs: weight decay (``--wd``), the
head's dropout (``--dropout``), label smoothing, MixUp or CutMix, and the optimizer (``--opt``),
each fastai's own. None of them changes the network's layers, so a model file reads back the same
whatever they were (``--dropout 0`` sets the head's dropout layers to 0, it does not remove them)."""

from __future__ import annotations

from petclf.errors import UsageError

OPTIMIZERS = ("adam", "sgd", "rmsprop", "lamb", "ranger")  # fastai's; SGD with momentum 0.9
SGD_MOMENTUM = 0.9


def check_mixing(mixup: float | None, cutmix: float | None, kind: str) -> None:
    if mixup is not None and cutmix is not None:
        raise UsageError("--mixup and --cutmix each mix the training batches; give one of them")
    if cutmix is not None and kind == "series":
        raise UsageError("--cutmix pastes a patch of one image into another; a series model mixes with --mixup")


def optimizer(name: str | None):
    """fastai's ``opt_func`` for ``--opt`` (None: Adam, fastai's default)."""
    from functools import partial

    from fastai.optimizer import SGD, Adam, Lamb, RMSProp, ranger

    if name not in (None, *OPTIMIZERS):
        raise UsageError(f"--opt must be one of {', '.join(OPTIMIZERS)} (got {name!r})")
    return {None: Adam, "adam": Adam, "sgd": partial(SGD, mom=SGD_MOMENTUM), "rmsprop": RMSProp, "lamb": Lamb,
            "ranger": ranger}[name]


def loss(weight, smoothing: float | None):
    """Cross-entropy (class-``weight``-ed), with labels smoothed by ``smoothing`` when given."""
    from fastai.losses import CrossEntropyLossFlat, LabelSmoothingCrossEntropyFlat

    if not smoothing:
        return CrossEntropyLossFlat(weight=weight)
    return LabelSmoothingCrossEntropyFlat(eps=smoothing, weight=weight)


def set_dropout(head, p: float) -> None:
    """fastai's head drops ``p`` before its last layer and ``p / 2`` before the others."""
    import torch.nn as nn

    layers = [m for m in head.modules() if isinstance(m, nn.Dropout)]
    for layer in layers[:-1]:
        layer.p = p / 2
    if layers:
        layers[-1].p = p


def mixing_callback(mixup: float | None, cutmix: float | None):
    """fastai's MixUp or CutMix callback (alpha of their Beta distribution), or None."""
    from fastai.callback.mixup import CutMix, MixUp

    if mixup is not None:
        return MixUp(mixup)
    return CutMix(cutmix) if cutmix is not None else None
