"""Labelled series to train on, and fastai DataLoaders over them.

The split is a given validation file (``valid``: any labelled file held out for choosing the
kept epoch; never the test file whose accuracy is to be reported) or a stratified ``valid_pct``
of the training file, chosen with ``seed``. Batches are raw series ``(B, C, L)``; the model's
``GafStem`` turns them into images on the training device (see model/stem.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petclf.errors import DataError
from petclf.series.readers import SeriesSet, is_number, read_series
from petclf.splits import LabelledSplit, check_split, check_valid_pct, stratified_split


@dataclass(frozen=True)
class LabelledSeries(LabelledSplit):
    """Every series of a training run, as ``LabelledImages`` holds every image."""

    X: np.ndarray  # float32, (n, C, L)
    labels: list[str]
    valid: list[int]  # indices into X
    names: list[str]  # "file:row", to report predictions by
    label_col: str = "0"  # where a text file's labels are; the model keeps it for predict series
    valid_given: bool = False  # the validation series come from a file of their own, not a split
    lengths: str | None = None  # of varying length (or with gaps), made one length so (readers.FITS); None: even

    @property
    def shape(self) -> tuple[int, int]:
        """Channels and length of every series."""
        return int(self.X.shape[1]), int(self.X.shape[2])


def find_series(path: Path, valid: Path | None = None, valid_pct: float = 0.2, seed: int = 42,
                label_col: int | str = 0, lengths: str = "pad") -> LabelledSeries:
    """The series of ``path`` (and ``valid``), uneven ones made one length as ``lengths`` says."""
    train_set = _labelled(read_series(path, label_col, fit=lengths), label_col)
    uneven = train_set.uneven
    if valid is None:
        check_valid_pct(valid_pct)
        X, labels, names = train_set.X, train_set.labels, _names(train_set)
        held = stratified_split(labels, valid_pct, seed)
    else:
        valid_set = _labelled(read_series(valid, label_col, train_set.X.shape[-1] if uneven else None, lengths),
                              label_col)
        _check_same_shape(train_set, valid_set)
        uneven = uneven or valid_set.uneven
        X = np.concatenate([train_set.X, valid_set.X])
        labels, names = train_set.labels + valid_set.labels, _names(train_set) + _names(valid_set)
        held = list(range(len(train_set.X), len(X)))
    return check_split(path, LabelledSeries(X, labels, held, names, str(label_col), valid is not None,
                                                     lengths if uneven else None),
                       "series")


def _labelled(series: SeriesSet, label_col: int | str) -> SeriesSet:
    """``series`` if it has labels that look like classes. Labels that are mostly distinct
    numbers, or numbers with fractions, are a column of values: a CSV with its label last read
    with the default first column would otherwise train a class per measurement."""
    if series.labels is None:
        raise DataError(series.source, "has no labels to train on (a label column, .npz 'y', or .ts class labels)")
    labels = series.labels
    if all(is_number(label) for label in labels) and (
            len(set(labels)) > len(labels) / 2 or not all(label.lstrip("-").isdigit() for label in labels)):
        example = next((label for label in labels if not label.lstrip("-").isdigit()), labels[0])
        raise DataError(series.source, f"the label column (--label-col {label_col}) holds values such as "
                                       f"{example} in {len(set(labels))} classes of {len(labels)} series: "
                                       "not class labels. If the labels are in the last column, pass --label-col -1")
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
    an incomplete last batch (as fastai does; recipe.fit_batch makes ``bs`` fit)."""
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

    return DataLoaders(DataLoader(items(series.train), bs=bs, shuffle=True, drop_last=True),
                       DataLoader(items(series.valid), bs=bs), device=device)
