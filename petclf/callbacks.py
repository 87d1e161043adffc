"""fastai callbacks petclf trains with. Imports fastai: only ``train.py`` imports this module."""

from __future__ import annotations

import time

from fastai.callback.core import Callback, CancelFitException
from fastai.callback.schedule import LRFinder, ParamScheduler

from petclf import console


def _snapshot(model) -> dict:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _phase(learn) -> str:
    return "frozen" if getattr(learn.opt, "frozen_idx", 0) else "unfrozen"


class Board(Callback):
    """A rich progress bar over each epoch's batches and a table row per epoch (on stderr), in
    place of fastprogress, which garbles outside notebooks; keeps the rows for history.csv."""

    order = 70  # after the Recorder (50) has logged the epoch

    def __init__(self, board: console.EpochBoard):
        self.board, self.rows, self.done = board, [], 0

    def before_epoch(self):
        self.started = time.perf_counter()
        total = len(self.dls.train) + len(self.dls.valid)
        self.board.start(f"epoch {self.done} ({_phase(self.learn)})", total)

    def after_batch(self):
        self.board.advance()

    def after_epoch(self):
        names = self.recorder.metric_names[1:-1]  # drop 'epoch' and 'time'
        values = dict(zip(names, self.recorder.log[1:-1]))
        row = {"epoch": self.done, "phase": _phase(self.learn), **values,
               "seconds": round(time.perf_counter() - self.started, 2)}
        self.rows.append(row)
        self.board.row(row)
        self.done += 1


class KeepBest(Callback):
    """Remember the weights of the epoch with the lowest validation loss, in memory, and stop
    after ``patience`` epochs without a lower one. (fastai's SaveModelCallback round-trips the
    weights through a pickle file; its EarlyStoppingCallback prints to stdout, which --json owns.)"""

    order = 71  # after the Board has shown the epoch

    def __init__(self, patience: int | None = None, quiet: bool = False):
        self.patience, self.quiet = patience, quiet
        self.best_loss, self.best_epoch, self.state, self.done = float("inf"), None, None, 0

    def after_epoch(self):
        loss = self.recorder.values[-1][1]  # [train_loss, valid_loss, *metrics]
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.state = loss, self.done, _snapshot(self.model)
        self.done += 1
        if self.patience and self.done - 1 - self.best_epoch >= self.patience:
            if not self.quiet:
                console.note(f"early stop: no lower validation loss in {self.patience} epoch(s) "
                             f"after epoch {self.best_epoch}")
            raise CancelFitException()

    def restore(self, model) -> None:
        """Put the best weights back into ``model`` (fastai detaches callbacks after a fit)."""
        if self.state is not None:
            model.load_state_dict(self.state)


class InMemoryLRFinder(LRFinder):
    """fastai's LRFinder, restoring the model from memory rather than from a pickle file."""

    def before_fit(self):
        ParamScheduler.before_fit(self)
        self.saved = _snapshot(self.model)
        self.best_loss = float("inf")

    def after_fit(self):
        self.learn.opt.zero_grad()
        self.learn.model.load_state_dict(self.saved)


class SeriesAugment(Callback):
    """Window slicing on each training batch of series, before the model's GafStem sees it
    (see ``seriesnet.window_slice`` for why this and not image augmentation)."""

    def before_batch(self):
        if self.training:
            from petclf.seriesnet import window_slice

            self.learn.xb = (window_slice(self.xb[0]),)
