"""Labelled series to train on, and fastai DataLoaders over them.

The split is a given file (``valid``: a UCR _TEST file, or any held-out file) or ``valid_pct``
of the training file, chosen with ``seed``. Batches are raw series ``(B, C, L)``; the model's
``GafStem`` turns them into images on the training device (see seriesnet.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petclf.data import LabelledSplit, check_split, random_split
from petclf.errors import DataError, UsageError
from petclf.series import SeriesSet, read_series


@dataclass(frozen=True)
class LabelledSeries(LabelledSplit):
    """Every series of a training run, as ``LabelledImages`` holds every image."""

    X: np.ndarray  # float32, (n, C, L)
    labels: list[str]
    valid: list[int]  # indices into X
    names: list[str]  # "file:row", to report predictions by

    @property
    def shape(self) -> tuple[int, int]:
        """Channels and length of every series."""
        return int(self.X.shape[1]), int(self.X.shape[2])


def find_series(path: Path, valid: Path | None = None, valid_pct: float = 0.2, seed: int = 42,
                label_col: int | str = 0) -> LabelledSeries:
    train_set = _labelled(read_series(path, label_col))
    if valid is None:
        if not 0 < valid_pct < 1:
            raise UsageError(f"--valid-pct must be between 0 and 1 (got {valid_pct})")
        X, labels, names = train_set.X, train_set.labels, _names(train_set)
        held = random_split(len(X), valid_pct, seed)
    else:
        valid_set = _labelled(read_series(valid, label_col))
        _check_same_shape(train_set, valid_set)
        X = np.concatenate([train_set.X, valid_set.X])
        labels, names = train_set.labels + valid_set.labels, _names(train_set) + _names(valid_set)
        held = list(range(len(train_set.X), len(X)))
    return check_split(path, LabelledSeries(X, labels, held, names), "series")


def _labelled(series: SeriesSet) -> SeriesSet:
    if series.labels is None:
        raise DataError(series.source, "has no labels to train on (a label column, .npz 'y', or .ts class labels)")
    return series


def _names(series: SeriesSet) -> list[str]:
    return [f"{series.source}:{row}" for row in range(len(series.X))]


def _check_same_shape(train: SeriesSet, valid: SeriesSet) -> None:
    (_, *want), (_, *got) = train.X.shape, valid.X.shape
    if got != want:
        raise DataError(valid.source, f"series are {got[0]} channel(s) x {got[1]} values, but the "
                                      f"training file's are {want[0]} x {want[1]}")


def dataloaders(series: LabelledSeries, bs: int, device=None, seed: int = 42):
    """fastai DataLoaders of ``(series, class index)`` pairs: the training one shuffled, dropping
    an incomplete last batch (as fastai does), with ``bs`` capped at the training set's size."""
    import torch
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.torch_core import set_seed

    set_seed(seed, reproducible=True)
    X = torch.from_numpy(series.X)
    index = {label: i for i, label in enumerate(series.classes)}
    y = torch.tensor([index[label] for label in series.labels])

    def items(rows: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(X[i], y[i]) for i in rows]

    train_bs = min(bs, len(series.train))
    return DataLoaders(DataLoader(items(series.train), bs=train_bs, shuffle=True, drop_last=True),
                       DataLoader(items(series.valid), bs=bs), device=device)
