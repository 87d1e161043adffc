"""Fine-tuning as in fast.ai chapter 1: DataLoaders, a pretrained backbone with a new head,
``fine_tune`` (one frozen epoch, then all layers), error rate and accuracy, and a run folder
(runfolder.py).

The data are labelled images (images/data.py) or labelled series (series/data.py). Series
train the same image classifier behind a ``GafStem`` that makes their images per batch on the
training device (model/stem.py); augmentation then stretches the series' time axis.

On a small training set one model's validation figure rests on a handful of items and one
seed's luck, so a run can train ``folds`` members instead, each validated on its own
stratified fold, and keep them all: ``predict`` averages them (a cross-validated ensemble).

The run folder is written under a temporary name and appears only when complete, or when
Ctrl-C stops a one-model run after an epoch: then it holds that epoch's model.safetensors, the
history, args.json and checkpoint.safetensors (checkpoint.py), from which ``train`` resumes.

What a run trains with (its options and their defaults) is recipe.py; the Learner, learner.py;
what it asks of images or of series, kinds.py; the learning-rate finder, lrfinder.py; its logs
(TensorBoard, user callbacks), logs.py; one member's epochs, member.py; training in several
processes (``--devices``), distributed.py, and an ensemble's members side by side on several
devices, side_by_side.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from petclf import console
from petclf.atomic import atomic_dir, write_csv, write_json
from petclf.datacheck import imbalance_note
from petclf.errors import Interrupted, UsageError
from petclf.model.file import ModelMeta
from petclf.training import distributed, side_by_side
from petclf.training.checkpoint import Checkpoint, save_checkpoint
from petclf.training.kinds import Labelled, kind_of
from petclf.training.learner import learner
from petclf.training.logs import log_images, user_callback
from petclf.training.lrfinder import LrFinding, find_lr, keep_plot, save_plot
from petclf.training.member import fine_tuned, log_dir, member_of
from petclf.training.preview import save_batch
from petclf.training.recipe import TrainOptions, fit_batch, member_splits, schedule_length, with_defaults
from petclf.training.ridge import fit_ridge
from petclf.training.runfolder import history_rows, run_args, write_run


@dataclass(frozen=True)
class TrainReport:
    folder: Path
    metrics: dict
    history: list[dict] = field(default_factory=list)


def lr_find(data: Labelled, options: TrainOptions, plot: Path | None = None,
            quiet: bool = False) -> LrFinding:
    """fastai's learning-rate finder on the model ``train`` would start from, and the rate
    ``train`` would use: the valley suggestion, or a default for the data (thumbnails, series),
    which the finder's curve is then shown beside."""
    options = replace(options, member="fine-tune")  # the finder's curve is a fine-tune's first steps
    options, fit_note = fit_batch(with_defaults(options, data), [data])
    learn, _, _ = learner(data, options, quiet)
    _say(quiet or not fit_note, fit_note)
    finding = find_lr(learn, options.lr_find_iters)
    if options.lr is not None:
        finding = replace(finding, train_lr=options.lr, train_lr_source=kind_of(data).default_source(data))
    if plot is not None:
        save_plot(finding, plot)
    return finding


def _in_parallel(data: Labelled, options: TrainOptions, out: Path, **rest) -> TrainReport:
    """``train`` data-parallel: on the processes torchrun started, or on ``options.devices`` of its own."""
    launched = distributed.launched_world()
    if launched is None:
        return distributed.run_parallel(train, options.devices, options.device, data=data, options=options, out=out,
                                        **rest)
    if options.devices > 1:
        raise UsageError(f"--devices {options.devices}: torchrun started this process, and its --nproc-per-node and "
                         "--nnodes say how many train together; leave out --devices")
    return distributed.run_launched(train, options.device, data=data, options=replace(options, devices=launched),
                                    out=out, **rest)


def train(data: Labelled, options: TrainOptions, out: Path, overwrite: bool = False, quiet: bool = False,
          source: dict | None = None, resume: list[Checkpoint] | None = None,
          on_epoch: Callable[[dict], None] | None = None) -> TrainReport:
    """Train and write the run folder ``out``. ``source`` (how to load ``data`` again, as JSON)
    goes into args.json for ``petclf train --resume``; ``resume`` (a checkpoint per member)
    continues an interrupted run, or a finished one with ``options.added_epochs``. ``on_epoch``
    gets each epoch's row of the first member (what it raises stops the run, and nothing is kept).

    Ctrl-C after an epoch has completed writes that epoch's model and a checkpoint as the run
    folder, then raises ``Interrupted`` (an ensemble keeps the members it has finished)."""
    parallel = distributed.world() == 1 and (options.devices > 1 or distributed.launched_world())
    if parallel:
        distributed.check_devices(options.devices, options.device)
    if parallel and not _members_apart(data, options, resume):
        return _in_parallel(data, options, out, overwrite=overwrite, quiet=quiet, source=source, resume=resume)
    for path in options.callbacks:  # refused before any training, not after the first member
        user_callback(path)
    kind = kind_of(data)
    lr_source = "--lr" if options.lr is not None else kind.default_source(data)
    if options.member == "ridge":
        lr_source = "none: a ridge member is fitted, not trained"
    options = with_defaults(options, data)
    note = imbalance_note(Counter(data.labels[i] for i in data.train))
    if note and not options.balance:
        _say(quiet, note)
    splits = member_splits(data, options)
    options, fit_note = fit_batch(options, splits, distributed.world())
    apart = parallel and len(splits) > 1  # the members side by side, one a device
    finished = list(resume[0].finished) if resume else []  # an ensemble interrupted after these members
    members, finding, stopped = list(finished), None, None
    seen = {}  # the frozen body's outputs, for ridge members after the first (ridge.fit_ridge)
    lr = None if options.member == "ridge" else options.lr  # None: the finder's, unless a ridge is fitted
    with atomic_dir(out, overwrite=overwrite or resume is not None) as tmp:
        if resume is not None:
            lr, lr_source = resume[0].lr, resume[0].lr_source
            keep_plot(Path(out), tmp)
        for k, split in enumerate(splits[len(finished):], len(finished)):
            try:
                goes_on = _going_on(resume, k - len(finished))
                learn, meta, origin = learner(split, replace(options, seed=options.seed + k), quiet or k > 0,
                                               goes_on, members=len(splits), scaled_on=split.train if len(splits) == 1
                                               else list(range(len(data.labels))))
                _say(quiet or not fit_note, fit_note)  # after the learner: a bad weights file is said first
                fit_note = None
                if options.member == "ridge":  # fitted in seconds: no rate, no epochs
                    _announce(data, split, k, len(splits), options.folds, quiet)
                    history, preds = fit_ridge(learn, seen)
                    members.append(member_of(learn, split, history, 0, preds))
                    continue
                if lr is None:
                    finding = find_lr(learn, options.lr_find_iters)
                    lr, lr_source = distributed.agree(finding.train_lr), finding.train_lr_source
                    _say(quiet, f"learning rate: {lr:.2e}, the finder's valley suggestion (set it with --lr)")
                facts = dict(lr=lr, lr_source=lr_source, origin=origin, classes=meta.classes)
                if apart:
                    side_by_side.train_members(data, splits, members, options, facts, out, quiet)
                    break
                _announce(data, split, k, len(splits), options.folds, quiet)
                member, stopped = fine_tuned(learn, split, options, facts, goes_on, quiet,
                                             log_dir(options, out, k, len(splits)), on_epoch if k == 0 else None)
                members += [member] if member else []
            except KeyboardInterrupt:
                if len(members) == len(finished):  # nothing new to keep: a resumed run's folder stays as it was
                    raise Interrupted("interrupted before the first epoch ended: nothing was written") from None
                stopped = Checkpoint(0, [], {}, {}, None, lr, lr_source, origin, meta.classes)
            if stopped is not None:
                stopped = replace(stopped, finished=tuple(members))
                _leave_checkpoint(tmp, stopped, meta, options, source, len(splits))
                break
        if stopped is None:
            finished = dict(lr=lr, lr_source=lr_source, weights=origin, best_epochs=[m.best_epoch for m in members])
            metrics = write_run(tmp, data, meta, members, run_args(options, source, finished))
            save_batch(learn, meta.classes, meta.mean, meta.std, options.augment, tmp / "batch.png")
            if options.tensorboard:
                log_images(log_dir(options, out), {name: tmp / f"{name}.png" for name in ("confusion_matrix", "batch")})
            metrics.update(lr=lr, lr_source=lr_source, weights=origin, device=str(learn.dls.device),
                           devices=options.devices)
            write_json(tmp / "metrics.json", metrics)
        if finding is not None:
            save_plot(finding, tmp / "lr_find.png")
    if stopped is not None:
        raise _interrupted(out, stopped, options, len(splits))
    return TrainReport(Path(out), metrics, [row for member in members for row in member.history])


def _members_apart(data: Labelled, options: TrainOptions, resume: list[Checkpoint] | None) -> bool:
    """Whether ``--devices`` trains this run's members side by side rather than each data-parallel:
    an ensemble's, in processes of its own (torchrun's processes train one model together), and
    none of them half-trained (its checkpoint would go on in one process only)."""
    return (options.devices > 1 and distributed.launched_world() is None and _going_on(resume, 0) is None
            and len(member_splits(data, with_defaults(options, data))) > 1)


def _announce(data: Labelled, split: Labelled, k: int, n_members: int, folds: int, quiet: bool) -> None:
    """What an ensemble is, before its first member, and each member's split."""
    if n_members == 1:
        return
    name = kind_of(data).name
    if k == 0:
        _say(quiet, f"{len(data.labels)} {name}: training {n_members} models, each validated on its own "
                    f"stratified fold, and averaging them (--folds {folds}; --folds 1 for one model)")
    _say(quiet, f"member {k + 1} of {n_members}: {len(split.train)} training and {len(split.valid)} validation {name}")


def _going_on(resume: list[Checkpoint] | None, position: int) -> Checkpoint | None:
    """The checkpoint a member goes on from: the ``position``-th of those left to train."""
    if resume is None or position >= len(resume) or not resume[position].started:
        return None
    return resume[position]


def _leave_checkpoint(tmp: Path, stopped: Checkpoint, meta: ModelMeta, options: TrainOptions,
                      source: dict | None, n_members: int) -> None:
    """What Ctrl-C leaves: the model and checkpoint to resume from, the history so far, args.json."""
    save_checkpoint(tmp, stopped, meta)
    write_csv(tmp / "history.csv", history_rows([*(m.history for m in stopped.finished), stopped.history],
                                                n_members > 1))
    write_json(tmp / "args.json", run_args(options, source))


def _interrupted(out: Path, stopped: Checkpoint, options: TrainOptions, n_members: int) -> Interrupted:
    """What Ctrl-C kept, and how to go on."""
    epochs = (f"after {stopped.epochs_done} of {schedule_length(options)} epochs" if stopped.started
              else "before its first epoch ended")
    go_on = f"continue with: petclf train --resume {out}"
    if n_members == 1:
        return Interrupted(f"interrupted {epochs}: {out} holds the last completed epoch's model; {go_on}")
    done = len(stopped.finished)
    kept = (f"member{'s' if done > 1 else ''} {'1' if done == 1 else f'1-{done}'}, which predict can use"
            if done else "member 1's last completed epoch")
    return Interrupted(f"interrupted in member {done + 1} of {n_members} {epochs}: {out} keeps {kept}; {go_on}")


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        console.note(message)
