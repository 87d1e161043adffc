"""What train, lr-find and check share: the DATA argument and its validation options, image size
and batch size (loading the data they name: training/source.py)."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import inputs
from petclf.cli.options import at_least

I, S, T = inputs.IMAGES, inputs.SERIES, inputs.THUMBNAILS
DATA_HELP = ("Folder of images: DATA/<label>/<image>, or DATA/train/<label>/… with DATA/valid/<label>/… "
             "(what tsimage --split writes; a DATA/test folder is never read). Or a series file "
             "(.tsv/.txt/.csv/.npy/.npz/.ts, as tsimage reads), made into images on the fly.")
Data = Annotated[Path, typer.Argument(metavar="DATA", show_default=False, help=DATA_HELP)]
Valid = Annotated[Path | None, typer.Option(help=(
    "Series only: a validation file instead of --valid-pct. It chooses the epoch that is kept, so it must "
    "not be the test file you will report accuracy on (predict that one afterwards)."), show_default=False)]
ValidPct = Annotated[float, typer.Option(help="Share of each class held out for validation (unless DATA/valid, "
                                              "--valid or --folds).")]
# Backbones shrink images 32-fold: below 16 px their last stages see a single pixel, and the
# "model" trains without an error but learns next to nothing.
MIN_SIZE = 16
Size = Annotated[int | None, typer.Option(
    help=f"Image side in pixels \\[default: {I.size}; thumbnails: {T.size}; series: {S.size}, per channel].",
    show_default=False, callback=at_least(MIN_SIZE))]
Bs = Annotated[int | None, typer.Option("--bs", help=f"Batch size \\[default: {I.bs}; thumbnails: {T.bs}; "
                                                        f"series: {S.bs}].", show_default=False, callback=at_least(1))]
Folds = Annotated[int | None, typer.Option(help=(
    f"Train K models, each validated on its own stratified fold, and keep them all: predict averages them, "
    f"and the accuracy is out-of-fold, over every item \\[default: {inputs.ENSEMBLE_FOLDS} below "
    f"{inputs.SMALL_DATA} items without a given validation set, else 1: one model]."), metavar="K",
    show_default=False, callback=at_least(1))]
