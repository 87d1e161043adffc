"""What train and lr-find share: the DATA argument and its validation options, image size and
batch size, and loading the data they name (with the notes a user should see)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from petclf import console, inputs
from petclf.cli.options import LENGTHS_DONE, at_least, refuse_image_labels
from petclf.errors import UsageError

I, S, T = inputs.IMAGES, inputs.SERIES, inputs.THUMBNAILS
DATA_HELP = ("Folder of images: DATA/<label>/<image>, or DATA/train/<label>/… with DATA/valid/<label>/… "
             "(what tsimage --split writes; a DATA/test folder is never read). Or a series file "
             "(.tsv/.txt/.csv/.npy/.npz/.ts, as tsimage reads), made into images on the fly.")
Data = Annotated[Path, typer.Argument(metavar="DATA", show_default=False, help=DATA_HELP)]
Valid = Annotated[Optional[Path], typer.Option(help=(
    "Series only: a validation file instead of --valid-pct. It chooses the epoch that is kept, so it must "
    "not be the test file you will report accuracy on (predict that one afterwards)."), show_default=False)]
ValidPct = Annotated[float, typer.Option(help="Share of each class held out for validation (unless DATA/valid, "
                                              "--valid or --folds).")]
# Backbones shrink images 32-fold: below 16 px their last stages see a single pixel, and the
# "model" trains without an error but learns next to nothing.
MIN_SIZE = 16
Size = Annotated[Optional[int], typer.Option(
    help=f"Image side in pixels \\[default: {I.size}; thumbnails: {T.size}; series: {S.size}, per channel].",
    show_default=False, callback=at_least(MIN_SIZE))]
Bs = Annotated[Optional[int], typer.Option("--bs", help=f"Batch size \\[default: {I.bs}; thumbnails: {T.bs}; "
                                                        f"series: {S.bs}].", show_default=False, callback=at_least(1))]


def source_of(data: Path, valid: Optional[Path], valid_pct: float, label_re: Optional[str], pets: bool,
              csv: Optional[Path], label_col: str, lengths: str) -> dict:
    """How to load the data, as JSON for args.json (absolute paths: --resume may run elsewhere)."""
    def absolute(path: Optional[Path]) -> Optional[str]:
        return path and str(path.absolute())

    return dict(data=absolute(data), valid=absolute(valid), valid_pct=valid_pct, label_re=label_re, pets=pets,
                csv=absolute(csv), label_col=label_col, lengths=lengths)


def load(source: dict, seed: int, quiet: bool):
    """LabelledSeries for a series file, LabelledImages for a folder (``source`` as ``source_of``
    makes it), and the data check's problems said as notes before any training."""
    from petclf.training.kinds import kind_of

    labelled = read_labelled(source, seed, quiet)
    for problem in kind_of(labelled).check(labelled, source["data"]).problems(balance=False) if not quiet else []:
        console.note(f"check: {problem}")
    return labelled


def read_labelled(source: dict, seed: int, quiet: bool):
    data, valid, csv = (source[k] and Path(source[k]) for k in ("data", "valid", "csv"))
    label_re, pets, valid_pct = source["label_re"], source["pets"], source["valid_pct"]
    if inputs.is_series_file(data):
        from petclf.series.data import find_series

        refuse_image_labels(label_re, pets, csv)
        lengths = source.get("lengths", "resample")  # run folders before --lengths resampled
        series = find_series(data, valid, valid_pct, seed, source["label_col"], lengths)
        if series.lengths and not quiet:
            console.note(f"{data}: series of different lengths (or with gaps) {LENGTHS_DONE[lengths]} "
                         f"{series.shape[1]} values; the model makes what it predicts the same")
        return series
    if valid is not None:
        raise UsageError("--valid takes a series file; an image folder's validation images go in DATA/valid")
    from petclf.images.data import LabelSource, find_images

    images = find_images(data, LabelSource(csv, label_re, pets), valid_pct, seed)
    for folder in images.left_out if not quiet else []:
        console.note(f"{folder}: a test set, left out of training and validation (predict it afterwards)")
    if not quiet and images.series_images:
        console.note(f"{data}: images that petclf tsimage drew (its manifest says so): trained with the series "
                     "defaults, without photo augmentation (flips and rotations give fields of no series)")
    if not quiet and images.skipped:
        console.note(f"skipped {images.skipped} file(s) that are not images or have no label")
    return images
