"""The two kinds of input petclf trains on, photographs (image folders) and time series (series
files), how to tell them apart, and the training defaults of each.

Light on purpose: the command line shows these in ``--help`` without importing numpy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERIES_SUFFIXES = (".tsv", ".txt", ".csv", ".npy", ".npz", ".ts")  # what series.read_series reads


@dataclass(frozen=True)
class Defaults:
    size: int  # image side; for series, the side of each channel's field
    epochs: int  # unfrozen epochs after the frozen one
    bs: int
    lr: float | None  # None: the learning-rate finder's valley suggestion


IMAGES = Defaults(size=224, epochs=1, bs=64, lr=None)  # fast.ai chapter 1
# Chosen on validation splits of UCR training files, never on their test files (README, "Time series").
SERIES = Defaults(size=128, epochs=30, bs=8, lr=1e-2)


def is_series_file(path: Path) -> bool:
    """Whether ``train DATA`` names a series file rather than an image folder."""
    path = Path(path)
    return path.suffix.lower() in SERIES_SUFFIXES and not path.is_dir()
