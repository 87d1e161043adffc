"""How labelled items (images or series) are split into training and validation sets.

Every split is stratified: each class is represented in the validation part in about its
share of the data, and never loses its last training item. With a handful of items per class
a plain random split can leave a class out of training altogether (PigCVP has two series per
class) or out of validation, and then the validation figure says little about that class.

Written here, not scikit-learn's: on exactly such data its splitters refuse. PigCVP's training
file (52 classes of 2) gets "n_splits=5 cannot be greater than the number of members in each
class" from ``StratifiedKFold`` and "The test_size = 21 should be greater or equal to the number
of classes = 52" from ``StratifiedShuffleSplit`` (scikit-learn 1.9); the few lines below share
items out class by class and carry on across classes instead.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from petclf.errors import DataError, UsageError


class LabelledSplit:
    """Labelled items split for training: ``labels`` (one per item) and ``valid`` (indices)."""

    labels: list[str]
    valid: list[int]

    @property
    def classes(self) -> list[str]:
        return natural_order(set(self.labels))

    @property
    def train(self) -> list[int]:
        held = set(self.valid)
        return [i for i in range(len(self.labels)) if i not in held]


def natural_order(labels) -> list[str]:
    """Labels sorted as a person reads them: numbers by value (1, 2, 10, not 1, 10, 2), text as text."""
    def key(label: str):
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", label)]

    return sorted(labels, key=key)


def check_valid_pct(valid_pct: float) -> float:
    if not 0 < valid_pct < 1:
        raise UsageError(f"--valid-pct must be between 0 and 1 (got {valid_pct})")
    return valid_pct


def stratified_split(labels: list[str], valid_pct: float, seed: int) -> list[int]:
    """Indices of a validation set of ``round(n * valid_pct)`` items, shared out among the classes
    in proportion to their size (largest remainders first, ties in a seeded order), taking no
    class's last item."""
    rng = np.random.default_rng(seed)
    members = _members(labels, rng)
    quota = {label: len(rows) * valid_pct for label, rows in members.items()}
    take = {label: int(share) for label, share in quota.items()}
    spare = round(len(labels) * valid_pct) - sum(take.values())
    tie_order = list(rng.permutation(sorted(quota)))
    for label in sorted(tie_order, key=lambda c: take[c] - quota[c])[:max(spare, 0)]:
        take[label] += 1
    return sorted(int(i) for label, rows in members.items() for i in rows[:min(take[label], len(rows) - 1)])


def stratified_folds(labels: list[str], k: int, seed: int) -> list[list[int]]:
    """``k`` disjoint validation sets that cover every item once: each class's items, shuffled,
    are dealt out in turn (continuing from class to class, so the folds' sizes differ by at most
    one). A class of m >= 2 items has at most ceil(m / k) < m in a fold, so every fold keeps some
    of each class to train on."""
    if k < 2:
        raise UsageError(f"--folds must be at least 2 (got {k}); 1 trains a single model (leave --folds out)")
    if k > len(labels):
        raise UsageError(f"--folds {k}: more folds than the {len(labels)} items to share out")
    order = [int(i) for rows in _members(labels, np.random.default_rng(seed)).values() for i in rows]
    return [sorted(order[fold::k]) for fold in range(k)]


def _members(labels: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each class's item indices, shuffled."""
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        rows.setdefault(label, []).append(i)
    return {label: rng.permutation(rows[label]) for label in sorted(rows)}


def fold_splits(split: LabelledSplit, k: int, seed: int) -> list[LabelledSplit]:
    """``split`` once per fold, with that fold as its validation set."""
    return [replace(split, valid=fold) for fold in stratified_folds(split.labels, k, seed)]


def check_split(source: Path, split: LabelledSplit, noun: str) -> LabelledSplit:
    """``split`` if a classifier can be trained and validated on it: at least two classes, each
    with two or more items (as scikit-learn's stratified split asks), a non-empty validation set,
    and every class among the training items."""
    counts = {label: split.labels.count(label) for label in split.classes}
    if len(counts) < 2:
        raise DataError(source, f"only one class ({', '.join(counts) or 'none'}); a classifier needs two or more")
    single = [label for label, n in counts.items() if n < 2]
    if single:
        raise DataError(source, f"class {single[0]!r} has only one of the {noun}; every class needs at least 2 "
                                "(to train on and to validate with)")
    if not split.valid:
        raise DataError(source, f"the validation set is empty ({len(split.labels)} {noun}); change --valid-pct")
    trained = {split.labels[i] for i in split.train}
    missing = [label for label in split.classes if label not in trained]
    if missing:
        raise DataError(source, f"class {missing[0]!r} has no training {noun}: all of its {counts[missing[0]]} "
                                f"are in the validation set")
    return split
