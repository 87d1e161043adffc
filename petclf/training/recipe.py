"""What a run trains with: its options, and the defaults that fill the ones left unset, which
depend on the data (photographs, thumbnails or series; a small set gets a cross-validated
ensemble) and on the backbone (a ViT takes one input size only)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path

from petclf import inputs
from petclf.errors import PetclfError, UsageError
from petclf.series.gaf import DEFAULT_COLORMAP
from petclf.splits import fold_splits
from petclf.training import runfolder
from petclf.training.balance import check_balance
from petclf.training.kinds import Labelled, kind_of
from petclf.training.regularization import check_mixing


@dataclass(frozen=True)
class TrainOptions:
    arch: str = "resnet34"
    pretrained: bool = True
    weights: Path | None = None
    epochs: int | None = None  # None: the default for the data (inputs.py), as for size and bs
    freeze_epochs: int = 1
    lr: float | None = None  # None: for images the finder's valley suggestion, for series 1e-2
    lr_mult: float | None = None  # None: the default for the data
    size: int | None = None
    bs: int | None = None
    augment: bool | None = None  # None: the default for the data
    early_stop: int | None = None  # patience in epochs
    seed: int = 42
    device: str = "auto"
    precision: str = "auto"
    workers: int = 0
    lr_find_iters: int = 100
    method: str | None = None  # series only: how each series becomes an image; None: the default for the member
    colormap: str = DEFAULT_COLORMAP
    scaling: str = "series"  # or "dataset": the training series' min and max per channel
    folds: int | None = None  # members of a cross-validated ensemble; None: inputs.ENSEMBLE_FOLDS if small
    balance: str | None = None  # "weights" or "sample" for imbalanced classes (balance.py)
    init: Path | None = None  # a petclf model to start from instead of pretrained weights
    added_epochs: tuple[int, ...] = ()  # by --resume RUN --epochs N, after the run finished: one cycle each
    devices: int = 1  # processes training data-parallel (distributed.py)
    tensorboard: Path | None = None  # a folder to log to, one sub-folder per run (logs.py)
    callbacks: tuple[str, ...] = ()  # fastai callbacks by import path, "module:name" (logs.py)
    member: str | None = None  # "fine-tune", or "ridge": a ridge classifier on the frozen body's features
    # (ridge.py); None: ridge for series (DEFAULT_MEMBER), fine-tune for images
    # Fine-tuning's knobs (regularization.py); None: fastai's defaults (wd 0.01 with Adam, head dropout 0.5,
    # no label smoothing, no mixing, Adam)
    wd: float | None = None
    dropout: float | None = None
    label_smoothing: float | None = None
    mixup: float | None = None  # alpha of MixUp's Beta distribution
    cutmix: float | None = None  # alpha of CutMix's
    opt: str | None = None  # regularization.OPTIMIZERS
    rocket: bool | None = None  # a ridge member also reads MiniRocket's features of the series (series/rocket.py);
    # None: yes for series ridge members (DEFAULT_ROCKET)


MEMBERS = ("fine-tune", "ridge")
# Series: ridge members won or tied on every held-out half of six UCR training files against the
# fine-tuned ensemble (README, "Accuracy on UCR/UEA data"), in seconds instead of minutes. A run
# given an option only fine-tuning has (FINE_TUNING) fine-tunes, as it did before ridge members.
DEFAULT_MEMBER = {"series": "ridge", "images": "fine-tune"}
# Series: a ridge on the pretrained body's features and MiniRocket's together scored 0.887 on held-out
# halves of ten UCR/UEA training files, the body's alone 0.855, MiniRocket 0.883 (bench/results/ucr-probe.md).
DEFAULT_ROCKET = True
FINE_TUNING = {"epochs": "--epochs", "lr": "--lr", "lr_mult": "--lr-mult", "early_stop": "--early-stop",
               "augment": "--aug/--no-aug", "wd": "--wd", "dropout": "--dropout", "label_smoothing": "--label-smoothing",
               "mixup": "--mixup", "cutmix": "--cutmix", "opt": "--opt"}


def check_member(options: TrainOptions, kind: str | None = None) -> None:
    """A ridge member is fitted, not trained: it has no epochs to add, no rate, and one process;
    and it fits series (``kind``, when known)."""
    if options.member not in (*MEMBERS, None):
        raise UsageError(f"--member must be one of {', '.join(MEMBERS)} (got {options.member!r})")
    if options.member != "ridge":
        if options.rocket and options.member is not None:
            raise UsageError("--rocket adds MiniRocket's features to a ridge member (--member ridge), which "
                             "fine-tuning has none of")
        return
    if kind not in (None, "series"):
        raise UsageError("--member ridge fits series models; for images use the default, fine-tune")
    if options.added_epochs:
        raise UsageError("a ridge run is fitted, not trained: it has no epochs to add")
    if options.devices > 1:
        raise UsageError("a ridge member (series' default) is fitted in seconds in one process: leave out --devices "
                         "and torchrun, or pass --member fine-tune to train data-parallel")
    given = [flag for name, flag in FINE_TUNING.items() if getattr(options, name) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: options of fine-tuning, which a ridge member does not do; leave "
                         "them out, or pass --member fine-tune")


def schedule_length(options: TrainOptions) -> int:
    """Epochs in the whole schedule: fine_tune's two phases and any added since."""
    return options.freeze_epochs + (options.epochs or 0) + sum(options.added_epochs)  # a ridge run's: None


def with_defaults(options: TrainOptions, data: Labelled) -> TrainOptions:
    """``options`` with each unset size, epochs, bs and lr taken from the defaults for ``data``,
    and ``folds`` from its size: an ensemble for a small training set without a given validation set."""
    from petclf.model.backbones import find_arch, fixed_size

    kind = kind_of(data)
    check_member(options, kind.name)
    if options.member is None:
        fine_tuning = any(getattr(options, name) is not None for name in FINE_TUNING)
        options = replace(options, member="fine-tune" if fine_tuning else DEFAULT_MEMBER[kind.name])
        check_member(options, kind.name)
    if options.rocket is None:
        options = replace(options, rocket=DEFAULT_ROCKET and options.member == "ridge")
    base = kind.defaults(data, options.member)
    unset = {f.name: getattr(base, f.name) for f in dataclass_fields(base) if getattr(options, f.name) is None}
    tiles = kind.tiles(data, replace(options, **unset))
    check_balance(options.balance)
    check_mixing(options.mixup, options.cutmix, kind.name)
    fixed = fixed_size(find_arch(options.arch), options.size, tiles)
    if fixed:
        unset["size"] = fixed
    if options.folds is None:
        small = not data.valid_given and len(data.labels) < inputs.SMALL_DATA
        unset["folds"] = max(1, min(inputs.ENSEMBLE_FOLDS, len(data.labels) // 2)) if small else 1
    return replace(options, **unset)


# fastai drops a training epoch's incomplete last batch: a batch as large as the training set
# makes an epoch of no step at all (the loss is then NaN, the finder divides by zero). Each
# epoch gets at least this many steps; the head's BatchNorm needs two items a batch.
MIN_STEPS = 2


def fit_batch(options: TrainOptions, splits: list[Labelled], processes: int = 1) -> tuple[TrainOptions, str | None]:
    """``options`` with a batch size that gives every member (each of ``processes`` taking its
    share) at least ``MIN_STEPS`` full batches an epoch, and a note when it had to shrink."""
    items = min(len(split.train) for split in splits) // processes
    fits = min(options.bs, max(2, items // MIN_STEPS))
    if fits == options.bs:
        return options, None
    what = f"{items} training {kind_of(splits[0]).name}" + (" a process" if processes > 1 else "")
    return replace(options, bs=fits), (f"batch size {options.bs} does not fit {what} ({MIN_STEPS} batches an "
                                       f"epoch at least): using --bs {fits}")


def member_splits(data: Labelled, options: TrainOptions) -> list[Labelled]:
    """The data as each member sees it: itself for one model, else one split per fold."""
    if options.folds == 1:
        return [data]
    if data.valid_given:
        raise UsageError(f"--folds {options.folds} shares the training items out into validation folds itself; "
                         "leave out --valid (or the DATA/valid folder), or pass --folds 1")
    return fold_splits(data, options.folds, options.seed)


def read_args(run: Path) -> tuple[dict, TrainOptions]:
    """How a run folder's data were loaded (``source``) and its options, from its args.json."""
    source, options = runfolder.read_args(run)
    try:
        return source, TrainOptions(**options)
    except TypeError as error:
        raise PetclfError(f"{Path(run) / 'args.json'}: malformed ({error})") from None
