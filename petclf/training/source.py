"""Where a run's labelled data come from: the options that name and label them, kept in args.json
(``source_of``) so that --resume reads them again, and reading them (``load``) with the notes a
user should see. What train, lr-find and check share, and what the Python API's ``train`` calls."""

from __future__ import annotations

from pathlib import Path

from petclf import console, inputs
from petclf.errors import UsageError

LENGTHS_DONE = {"pad": "padded with zeros to", "resample": "resampled to"}  # readers.FITS, as a note says them


def source_of(data: Path, valid: Path | None, valid_pct: float, label_re: str | None, pets: bool,
              csv: Path | None, label_col: str, lengths: str) -> dict:
    """How to load the data, as JSON for args.json (absolute paths: --resume may run elsewhere)."""
    def absolute(path: Path | None) -> str | None:
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

        inputs.refuse_image_labels(label_re, pets, csv)
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

