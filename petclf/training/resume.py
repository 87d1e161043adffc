"""Going on with a run folder (``petclf train --resume RUN``): a run Ctrl-C stopped, from its
last completed epoch, or a finished one for ``epochs`` more, with the data and options its
args.json keeps (only the device and the loader's workers may change)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from petclf.errors import UsageError
from petclf.training.checkpoint import continuation, read_checkpoint
from petclf.training.recipe import check_member, read_args, schedule_length
from petclf.training.run import TrainReport, train
from petclf.training.source import load


def resume(run: Path, epochs: int | None = None, device: str = "auto", workers: int = 0,
           quiet: bool = False) -> TrainReport:
    """Finish the interrupted run in ``run`` (``epochs`` None), or train the finished one
    ``epochs`` more, every member from its kept weights; the run folder is replaced whole."""
    run = Path(run)
    if epochs == 0:
        raise UsageError(f"--resume {run} --epochs 0 adds no epochs")
    source, options = read_args(run)
    if epochs is None:
        checkpoints = [read_checkpoint(run)]
    else:
        check_member(replace(options, added_epochs=(*options.added_epochs, epochs)))  # a ridge run has none to add
        checkpoints = continuation(run, options.folds, schedule_length(options))
        options = replace(options, added_epochs=(*options.added_epochs, epochs))
    labelled = load(source, options.seed, quiet)
    return train(labelled, replace(options, device=device, workers=workers), run, quiet=quiet, source=source,
                 resume=checkpoints)
