"""fastai callbacks petclf trains with. Imports fastai: only the training package imports this module."""

from __future__ import annotations

import time

from fastai.callback.core import Callback, CancelFitException

from petclf import console
from petclf.errors import Diverged
from petclf.training.checkpoint import Best, Checkpoint


def _snapshot(model) -> dict:
    model = getattr(model, "module", model)  # the model itself, not its DistributedDataParallel wrapper
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _optimizer_snapshot(opt) -> dict:
    state = opt.state_dict()
    return {"state": [{k: v.detach().clone() if hasattr(v, "detach") else v for k, v in s.items()}
                      for s in state["state"]],
            "hypers": [dict(group) for group in state["hypers"]]}


def _phase(learn) -> str:
    """``frozen`` while fastai's ``freeze`` holds the body: its first weight (a convolution's, which
    ``train_bn`` never unfreezes) does not learn."""
    return "unfrozen" if learn.opt.param_lists[0][0].requires_grad else "frozen"


def epoch_values(recorder) -> dict[str, float]:
    """The epoch's losses and metrics by name (train_loss, valid_loss, then the metrics), as fastai's
    Recorder logged them: the one place petclf reads its ``log`` and ``metric_names`` (epoch first and
    time last), which fastai has no public accessor for. tests/test_callbacks.py fails when it changes."""
    names, logged = recorder.metric_names, recorder.log
    if len(names) != len(logged) or names[0] != "epoch" or names[-1] != "time":
        raise RuntimeError(f"fastai's Recorder logs {list(names)}, not epoch, losses, metrics, time")
    return dict(zip(names[1:-1], logged[1:-1], strict=True))


class _EpochEnd(Callback):
    """A callback that acts at the end of each epoch that ran. A resumed run skips the epochs
    it has done with fastai's ``start_epoch``, which still sends ``after_epoch`` for them."""

    skipping = False

    def after_cancel_epoch(self):
        self.skipping = True

    def after_epoch(self):
        if self.skipping:
            self.skipping = False
        else:
            self.epoch_end()

    def epoch_end(self):
        raise NotImplementedError


class Board(_EpochEnd):
    """A rich progress bar over each epoch's batches and a table row per epoch (on stderr), in
    place of fastprogress, which garbles outside notebooks; keeps the rows for history.csv
    (``rows``: those of the epochs a resumed run has done)."""

    order = 70  # after the Recorder (50) has logged the epoch

    def __init__(self, screen: console.EpochBoard, rows: list[dict] = ()):
        self.screen, self.rows, self.done = screen, list(rows), len(rows)
        for row in self.rows:
            screen.row(row)

    def before_epoch(self):
        self.started = time.perf_counter()
        total = len(self.dls.train) + len(self.dls.valid)
        self.screen.start(f"epoch {self.done} ({_phase(self.learn)})", total)

    def after_batch(self):
        self.screen.advance()

    def epoch_end(self):
        self.rows.append({"epoch": self.done, "phase": _phase(self.learn), **epoch_values(self.recorder),
                          "seconds": round(time.perf_counter() - self.started, 2)})
        self.done += 1  # the row is shown by LastEpoch, once the epoch is safe

    def show_last(self) -> None:
        self.screen.row(self.rows[-1])


class Listener(_EpochEnd):
    """Each epoch's row, as the Board keeps it, to ``listen`` (petclf tune prunes a trial from
    them); what ``listen`` raises stops the run."""

    order = 72  # after the Board has its row

    def __init__(self, board: Board, listen):
        self.board, self.listen = board, listen

    def epoch_end(self):
        self.listen(dict(self.board.rows[-1]))


class TensorBoard(_EpochEnd):
    """Each epoch's row of the history as TensorBoard scalars, at its epoch in the run (logs.py)."""

    order = 71  # after the Board has its row

    def __init__(self, board: Board, log_dir):
        from petclf.training.logs import writer

        self.board, self.writer = board, writer(log_dir)

    def epoch_end(self):
        row = self.board.rows[-1]
        for name, value in row.items():
            if name not in ("epoch", "phase") and isinstance(value, (int, float)):
                self.writer.add_scalar(name, value, row["epoch"])
        self.writer.add_scalar("lr", self.opt.hypers[-1]["lr"], row["epoch"])
        self.writer.flush()

    def after_fit(self):
        self.writer.flush()


class KeepBest(_EpochEnd):
    """Remember the weights of the epoch with the lowest validation loss, in memory, and know
    when ``patience`` epochs have passed without a lower one. (fastai's SaveModelCallback
    round-trips the weights through a pickle file; its EarlyStoppingCallback prints to stdout,
    which --json owns.)"""

    order = 71  # after the Board has shown the epoch

    def __init__(self, patience: int | None = None, quiet: bool = False, best: Best | None = None,
                 done: int = 0, patience_from: int = -1):
        self.patience, self.quiet, self.best, self.done = patience, quiet, best, done
        self.patience_from = patience_from  # a continued run's patience starts where it goes on

    def epoch_end(self):
        loss = epoch_values(self.recorder)["valid_loss"]
        if self.best is None or loss < self.best.loss:
            self.best = Best(loss, self.done, _snapshot(self.model))  # one assignment: Ctrl-C safe
        self.done += 1

    def stop_early(self) -> bool:
        """Whether ``patience`` epochs have passed without a lower loss (said unless quiet)."""
        if not self.patience or self.done - 1 - max(self.best.epoch, self.patience_from) < self.patience:
            return False
        if not self.quiet:
            console.note(f"early stop: no lower validation loss in {self.patience} epoch(s) "
                         f"after epoch {self.best.epoch}")
        return True

    def restore(self, model) -> None:
        """Put the best weights back into ``model`` (fastai detaches callbacks after a fit)."""
        if self.best is not None:
            model.load_state_dict(self.best.state)


class LastEpoch(_EpochEnd):
    """Last at each epoch's end: the checkpoint to leave behind if training is interrupted, in
    memory (written only then: saving every epoch would cost more than the short epochs of
    series); then the Board's row is shown and KeepBest may stop training. In that order, a
    row on the screen is an epoch that Ctrl-C keeps."""

    order = 72  # after the Board and KeepBest have taken the epoch's measure

    def __init__(self, board: Board, keep: KeepBest, position: int = 0, **facts):
        self.board, self.keep, self.facts = board, keep, facts  # Checkpoint's lr, lr_source, origin, classes
        self.position = position  # in the schedule, which early stopping may have skipped on in
        self.checkpoint: Checkpoint | None = None

    def epoch_end(self):
        self.position += 1
        smooth = self.recorder.smooth_loss
        self.checkpoint = Checkpoint(self.position, list(self.board.rows), _snapshot(self.model),
                                     _optimizer_snapshot(self.opt), self.keep.best, **self.facts,
                                     patience_from=self.keep.patience_from,
                                     smooth_loss=(float(smooth.val), int(smooth.count)))
        self.board.show_last()
        if self.keep.stop_early():
            raise CancelFitException()


class SmoothLossFrom(Callback):
    """Go on with the smoothed training loss (train_loss in the history) a run had when Ctrl-C
    stopped it. fastai's Recorder starts its moving average afresh with every fit, so a resumed
    fit would report the mean of its first few batches: far below the run's, dipping to zero."""

    order = 51  # after the Recorder (50) has reset it

    def __init__(self, value: float, batches: int):
        self.value, self.batches = value, batches

    def before_fit(self):
        import torch

        self.recorder.smooth_loss.val, self.recorder.smooth_loss.count = torch.tensor(self.value), self.batches


class FiniteLoss(Callback):
    """Stop the run at the first NaN or infinite loss, training or validating: fastai would
    train on (its TerminateOnNaNCallback ends the fit quietly) and petclf would keep a model."""

    def __init__(self, lr: float):
        self.lr = lr

    def after_batch(self):
        import math

        loss = float(self.learn.loss.detach())
        if not math.isfinite(loss):
            stage = "training" if self.training else "validation"
            raise Diverged(f"training diverged: the {stage} loss became {loss} in epoch {self.epoch}, "
                           f"batch {self.iter}; nothing was written. Try a lower learning rate "
                           f"(this run's: --lr {self.lr:.2e})")


class SeriesAugment(Callback):
    """Window slicing on each training batch of series, before the model's GafStem sees it
    (see ``series.augment`` for why this and not image augmentation)."""

    def before_batch(self):
        if self.training:
            from petclf.series.augment import window_slice

            self.learn.xb = (window_slice(self.xb[0]),)


class DataParallel(Callback):
    """Train as torch's DistributedDataParallel, this process (``rank`` of ``world``) on its
    share of each epoch's training items; validation stays whole (distributed.py)."""

    order = 11  # wrap the model before the callbacks that read it

    def __init__(self, rank: int, world: int):
        self.rank, self.world = rank, world

    def before_fit(self):
        import torch
        from torch.nn.parallel import DistributedDataParallel

        self.single, self.whole = self.learn.model, self.dls.loaders[0]
        on_gpu = next(self.single.parameters()).is_cuda
        self.learn.model = DistributedDataParallel(self.single,
                                                   device_ids=[torch.cuda.current_device()] if on_gpu else None)
        self.learn.dls.loaders[0] = _share(self.whole, self.rank, self.world)

    def after_fit(self):
        self.learn.model, self.learn.dls.loaders[0] = self.single, self.whole


def _share(loader, rank: int, world: int):
    """``loader`` giving ``rank`` its part of each epoch's items, in the order rank 0 drew (padded
    by repeating items to a multiple of ``world``, as fastai's DistributedDL does).

    Not DistributedDL itself: ``fastai.distributed`` does not import without accelerate (a
    NameError on ``Accelerator`` at import, fastai 2.8.12), which petclf does not need. The one
    fastai internal used, ``_FakeLoader`` (the torch DataLoader front that iterates the share),
    is here alone; tests/test_distributed.py's share test fails when fastai changes it."""
    import copy
    import math

    import torch
    import torch.distributed as dist
    from fastai.data.load import _FakeLoader

    share = copy.copy(loader)
    share.n = math.ceil(loader.n / world)  # what len() counts batches of, for the one-cycle schedule
    fake = loader.fake_l  # the torch DataLoader front, which must iterate the share
    share.fake_l = _FakeLoader(share, fake.pin_memory, fake.num_workers, fake.timeout,
                               persistent_workers=fake.persistent_workers, pin_memory_device=fake.pin_memory_device)

    def get_idxs():
        order = torch.tensor(list(loader.get_idxs()), dtype=torch.long)
        order = order.cuda() if dist.get_backend() == "nccl" else order
        dist.broadcast(order, 0)
        padded = (order.tolist() * world)[:share.n * world]
        return padded[rank * share.n:(rank + 1) * share.n]

    share.get_idxs = get_idxs
    return share
