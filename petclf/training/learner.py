"""The fastai Learner a run trains: the backbone with its weights (pretrained, from a petclf
model with ``--init``, or a checkpoint's), the model for the data's kind, its DataLoaders, the
loss (class-weighted with ``--balance weights``), precision and data parallelism."""

from __future__ import annotations

from petclf import console
from petclf.device import resolve_device, resolve_precision
from petclf.errors import UsageError
from petclf.model import build as network
from petclf.model.file import ModelMeta
from petclf.training import distributed, regularization
from petclf.training.balance import balanced_loader, class_weights
from petclf.training.checkpoint import Checkpoint
from petclf.training.kinds import Labelled, kind_of
from petclf.training.recipe import TrainOptions


def learner(data: Labelled, options: TrainOptions, quiet: bool, resume: Checkpoint | None = None,
             scaled_on: list[int] | None = None, members: int = 1):
    """The Learner, the model's metadata, and where its starting weights came from (for a
    resumed run: its checkpoint's weights, the origin being that of the run)."""
    import torch
    from fastai.callback.channelslast import ChannelsLast
    from fastai.vision.all import (
        Learner,
        ProgressCallback,
        accuracy,
        error_rate,
        params,
        set_seed,
    )

    from petclf.model import weights
    from petclf.model.backbones import find_arch

    kind = kind_of(data)
    device = resolve_device(distributed.device_of_rank(options.device))
    precision = resolve_precision(options.precision, device)
    arch = find_arch(options.arch)
    pretrained = options.pretrained and not resume and not options.init
    set_seed(options.seed, reproducible=True)  # before the backbone: its random init draws from it
    backbone, origin = weights.pretrained_backbone(arch, options.weights) if pretrained else (None, None)
    origin = resume.origin if resume else origin or "random (--no-pretrained)"
    model, spec = network.build(arch, len(data.classes), backbone, head="linear" if options.member == "ridge" else "mlp",
                                views=len(options.method.split(",")), rocket=kind.rocket(data, options))
    mean, std = network.normalization(arch)
    meta = ModelMeta(net=spec, classes=data.classes, image_size=options.size, mean=list(mean),
                     std=list(std), versions=_versions(), **kind.model_input(data, options, scaled_on))
    model, dls, cbs = kind.model_and_batches(data, model, meta, options, device)
    if options.init and not resume:
        origin = weights.load_petclf_model(model, meta, options.init)
    counts = (f"{len(data.labels)} {kind.name}" if members > 1  # each member's split is said before its epochs
              else f"{len(data.train)} training and {len(data.valid)} validation {kind.name}")
    if not quiet:
        console.note(f"{arch.source} {arch.name}, weights: {origin}; {counts} in {len(data.classes)} classes on "
                     f"{device} ({precision})"
                     + (f", {distributed.world()} processes data-parallel" if distributed.world() > 1 else ""))
    train_labels = [data.labels[i] for i in data.train]
    if options.balance == "sample":
        dls.loaders[0] = balanced_loader(dls.train, train_labels)
    weight = (torch.tensor(class_weights(train_labels, data.classes), device=device)
              if options.balance == "weights" else None)
    if resume is not None:
        _check_resumable(resume, meta)
        weights.load_into(model, resume.model, "the checkpoint")
    # channels-last convolutions: 2x faster for EfficientNet on this CPU, and fastai's advice with AMP
    if options.dropout is not None:
        regularization.set_dropout(model[-1], options.dropout)
    mixing = regularization.mixing_callback(options.mixup, options.cutmix)
    learn = Learner(dls, model, loss_func=regularization.loss(weight, options.label_smoothing),
                    opt_func=regularization.optimizer(options.opt), wd=options.wd, metrics=[error_rate, accuracy],
                    splitter=lambda m: [params(m[-2]), params(m[-1])],  # body, head
                    cbs=[ChannelsLast(), *cbs, *([mixing] if mixing else [])])
    learn.remove_cb(ProgressCallback)
    learn.logger = lambda *_: None
    if precision == "fp16":
        learn.to_fp16()
    elif precision == "bf16":
        learn.to_bf16()
    if distributed.world() > 1:
        learn.add_cb(distributed.parallel_callback())
    if options.pretrained:
        learn.freeze()
    return learn, meta, origin


def _check_resumable(resume: Checkpoint, meta: ModelMeta) -> None:
    if resume.classes != meta.classes:
        raise UsageError(f"the data changed since the run began: its classes are {meta.classes}, "
                         f"the run's {resume.classes}")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("petclf", "torch", "torchvision", "timm", "fastai"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
