"""The two kinds of input petclf trains on, photographs (image folders) and time series (series
files), how to tell them apart, and the training defaults of each.

Light on purpose: the command line shows these in ``--help`` without importing numpy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from petclf.errors import UsageError

# --label-re as typed in a shell (single quotes, single backslashes): the label is what comes before _<number>.jpg
LABEL_RE_EXAMPLE = r"'^(.*)_\d+\.jpg$'"
SERIES_SUFFIXES = (".tsv", ".txt", ".csv", ".npy", ".npz", ".ts")  # what series.read_series reads


@dataclass(frozen=True)
class Defaults:
    size: int  # image side; for series, the side of each channel's field
    epochs: int  # unfrozen epochs after the frozen one
    bs: int
    lr: float | None  # None: the learning-rate finder's valley suggestion
    augment: bool = True
    lr_mult: float = 100  # fine_tune's: the body trains at lr / lr_mult, the head at lr
    method: str = "gadf"  # series only: how each becomes an image (series/fields.py)


IMAGES = Defaults(size=224, epochs=1, bs=64, lr=None)  # fast.ai chapter 1
# Thumbnails: images under THUMBNAIL_SIDE pixels a side (median), such as 8 x 8 digits. fastai's
# photographic augmentation (flips, rotations, warps made for photos) turns them into other
# glyphs, and one epoch of a few batches barely moves the head. An ImageNet body is far from
# what an 8 x 8 glyph needs, so it trains at the head's rate (lr_mult 1, not fine_tune's 100).
# Chosen on held-out scikit-learn digits (not the bundled ones), README "Defaults for small images".
THUMBNAILS = Defaults(size=64, epochs=20, bs=16, lr=1e-2, augment=False, lr_mult=1)
THUMBNAIL_SIDE = 64
# Chosen on validation splits of UCR training files, never on their test files (README, "Time series").
SERIES = Defaults(size=128, epochs=30, bs=8, lr=1e-2)
# A ridge member (--member ridge) of series: three views of each series, pooled apart at the body's
# middle levels, at 224 px; chosen on held-out halves of UCR training files (bench/results/ucr-probe.md).
# It has no epochs, rate or augmentation (None: none to fill in). Several channels: one image of
# them all, channels as rows and time as columns ("mat"), where a mosaic of one field a channel lost
# (0.92 against 0.61 on JapaneseVowels' halves).
SERIES_RIDGE = Defaults(size=224, epochs=None, bs=SERIES.bs, lr=None, augment=None, lr_mult=None, method="seg,rp,gadf")
SERIES_RIDGE_CHANNELS = "mat"
# Images petclf tsimage wrote (its manifest says so): fields of series, trained as series are, less
# the window slicing they cannot have; fastai's photo augmentation (flips, rotations) would give
# another field, of no series.
SERIES_IMAGES = Defaults(size=SERIES.size, epochs=SERIES.epochs, bs=SERIES.bs, lr=SERIES.lr, augment=False,
                         lr_mult=SERIES.lr_mult)
TSIMAGE_MANIFEST = "manifest.csv"  # tsimage writes it beside the class folders, with this header
TSIMAGE_MANIFEST_HEADER = "source_row,file,label,split"
# Below this many labelled items (and with no validation set given), train a cross-validated
# ensemble of this many members: one model's validation figure would rest on a handful of items.
SMALL_DATA = 200
ENSEMBLE_FOLDS = 5


def is_series_file(path: Path) -> bool:
    """Whether ``train DATA`` names a series file rather than an image folder."""
    path = Path(path)
    return path.suffix.lower() in SERIES_SUFFIXES and not path.is_dir()


def refuse_image_labels(label_re, pets: bool, csv) -> None:
    """A series file carries its labels: the options that label image folders do not apply."""
    if label_re or pets or csv:
        raise UsageError("--label-re, --pets and --labels-csv label image folders, not series files")
