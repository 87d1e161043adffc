"""One member of a run trained: fastai's ``fine_tune`` epochs with petclf's callbacks (the
epoch table, TensorBoard, early stopping, the user's callbacks), the model restored to its best
epoch, and its predictions on its validation items. run.py trains members one after another;
side_by_side.py, one a device.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from petclf import console
from petclf.training.checkpoint import Checkpoint
from petclf.training.kinds import Labelled
from petclf.training.recipe import TrainOptions
from petclf.training.runfolder import Member


def fine_tuned(learn, split: Labelled, options: TrainOptions, facts: dict, goes_on: Checkpoint | None, quiet: bool,
               log_dir: Path | None, on_epoch: Callable[[dict], None] | None = None
               ) -> tuple[Member | None, Checkpoint | None]:
    """A member fine-tuned, at its best epoch; or, after Ctrl-C, the checkpoint of its last epoch."""
    board, keep, stopped = _epochs(learn, options, facts, goes_on, quiet, log_dir, on_epoch)
    if stopped is not None:
        return None, stopped
    keep.restore(learn.model)
    return member_of(learn, split, board.rows, keep.best.epoch), None


def _epochs(learn, options: TrainOptions, facts: dict, resume: Checkpoint | None, quiet: bool,
            log_dir: Path | None = None, on_epoch: Callable[[dict], None] | None = None):
    """Run the epochs (those a resumed run has left), with TensorBoard logs in ``log_dir``, the
    user's callbacks and ``on_epoch``'s; returns the Board, KeepBest, and on Ctrl-C the checkpoint of the last
    completed epoch (else None). Ctrl-C before an epoch ended goes on up as KeyboardInterrupt."""
    from petclf.training.callbacks import Board, FiniteLoss, KeepBest, LastEpoch, Listener, TensorBoard
    from petclf.training.logs import user_callback

    position = resume.epochs_done if resume else 0
    history = resume.history if resume else []
    keep = KeepBest(options.early_stop, quiet, resume and resume.best, len(history),
                    resume.patience_from if resume else -1)
    last = None
    try:
        with console.EpochBoard(quiet) as display:
            board = Board(display, history)
            last = LastEpoch(board, keep, position, **facts)
            logged = [TensorBoard(board, log_dir)] if log_dir else []
            logged += [Listener(board, on_epoch)] if on_epoch else []
            users = [user_callback(path) for path in options.callbacks]
            _fine_tune(learn, options, facts["lr"], [FiniteLoss(facts["lr"]), board, *logged, keep, last, *users],
                       position, resume)
    except KeyboardInterrupt:
        if last is None or last.checkpoint is None:
            raise
        return board, keep, last.checkpoint
    return board, keep, None


def _fine_tune(learn, options: TrainOptions, lr: float, cbs: list, start: int = 0,
               resume: Checkpoint | None = None) -> None:
    """fastai's ``fine_tune``: ``freeze_epochs`` with the body frozen at ``lr``, then ``epochs``
    of all layers at ``lr / 2`` (the body ``lr_mult`` times lower), each a one-cycle schedule,
    and a cycle like the last for each of ``added_epochs``. It can begin at epoch ``start`` of
    the whole schedule, with the optimizer state and smoothed loss ``resume`` saved there."""
    from petclf.training.callbacks import SmoothLossFrom

    body = dict(lr_max=slice(lr / 2 / options.lr_mult, lr / 2), pct_start=0.3, div=5.0)
    phases = [(options.freeze_epochs, learn.freeze, dict(lr_max=slice(lr), pct_start=0.99)),
              (options.epochs, learn.unfreeze, body), *((n, learn.unfreeze, body) for n in options.added_epochs)]
    for n_epochs, set_phase, schedule in phases:
        if start >= n_epochs:
            start -= n_epochs
            continue
        set_phase()  # as in fine_tune, a phase starts with a cleared optimizer state...
        going_on = []
        if start and resume is not None and resume.optimizer:  # ...unless it is resumed half-way
            learn.opt.load_state_dict(resume.optimizer)
            going_on = [SmoothLossFrom(*resume.smooth_loss)] if resume.smooth_loss else []
        learn.fit_one_cycle(n_epochs, cbs=cbs + going_on, start_epoch=start, **schedule)
        start = 0


def member_of(learn, split: Labelled, history: list[dict], best_epoch: int, preds: tuple | None = None) -> Member:
    """The member as the run folder keeps it. ``preds``: fastai's (probabilities, targets, losses)
    on the validation items, when the caller has them already (each pass costs the whole model)."""
    probs, _, losses = preds or learn.get_preds(dl=learn.dls.valid, with_loss=True)  # loss from the logits
    state = {name: t.detach().cpu() for name, t in learn.model.state_dict().items()}
    return Member(state, list(split.valid), probs.float().numpy(), losses.float().tolist(), history, best_epoch)


def log_dir(options: TrainOptions, out: Path, k: int | None = None, n_members: int = 1) -> Path | None:
    """Where TensorBoard logs go: DIR/<run name>, each member of an ensemble under member-K."""
    if options.tensorboard is None:
        return None
    run = Path(options.tensorboard) / Path(out).name
    return run / f"member-{k + 1}" if k is not None and n_members > 1 else run
