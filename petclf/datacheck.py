"""What ``petclf check`` (and the start of ``train``) says about a data set before any training:
classes and their counts in each split, the items' shapes, what could not be read, and items
that appear more than once. A duplicate across the training and validation split inflates the
validation figure (the model is judged on what it trained on); one filed under two labels
teaches the model both. Either is cheaper to fix before a 20-minute run than after it.

Images (images/check.py) and series (series/check.py) each give a key per item, exact and
near; grouping them is common to both and lives here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from petclf.splits import natural_order

IMBALANCE = 3  # the largest class this many times the smallest: say so


@dataclass(frozen=True)
class Report:
    source: str
    kind: str  # "images" or "series"
    classes: dict[str, dict[str, int]]  # class -> {"train": n, "valid": n}
    shapes: dict[str, object]  # what the items are like: sizes and modes, or channels and length
    unreadable: list[str] = field(default_factory=list)
    skipped: int = 0  # files that are not items (not images, or without a label)
    duplicates: list[list[str]] = field(default_factory=list)  # groups of identical items
    near_duplicates: list[list[str]] = field(default_factory=list)  # groups that look alike (not identical)
    across_split: list[list[str]] = field(default_factory=list)  # groups in training and validation both
    conflicting: list[list[str]] = field(default_factory=list)  # groups under more than one label

    def problems(self, balance: bool = True) -> list[str]:
        """One line per problem the user should fix or know of, worst first; with ``balance``,
        also classes of very different sizes (train says that itself, knowing --balance)."""
        found = []
        for group in self.conflicting:
            found.append(f"one item under two labels: {_listed(group)}")
        for group in self.across_split:
            found.append(f"in training and validation both (the validation figure flatters): {_listed(group)}")
        if self.unreadable:
            found.append(f"{len(self.unreadable)} unreadable, left out: {_listed(self.unreadable)}")
        if self.duplicates:
            found.append(f"{len(self.duplicates)} group(s) of identical {self.kind}, e.g. {_listed(self.duplicates[0])}")
        if self.near_duplicates:
            found.append(f"{len(self.near_duplicates)} group(s) of near-identical {self.kind}, e.g. "
                         f"{_listed(self.near_duplicates[0])}")
        note = imbalance_note({label: counts["train"] for label, counts in self.classes.items()}) if balance else None
        return found + ([note] if note else [])

    def as_dict(self) -> dict:
        return {**asdict(self), "problems": self.problems()}


def imbalance_note(counts: dict[str, int]) -> str | None:
    """A line for the user when the training items per class are imbalanced, else None."""
    small, large = min(counts, key=counts.get), max(counts, key=counts.get)
    fewest, most = counts[small], counts[large]
    if most < IMBALANCE * max(fewest, 1):
        return None
    return (f"imbalanced classes: {large!r} has {most} training items, {small!r} {fewest} "
            f"({most / max(fewest, 1):.0f}x); watch macro-F1 beside accuracy, and consider --balance weights or "
            "--balance sample")


def _listed(items: list[str], most: int = 3) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def class_counts(labels: list[str], valid: list[int]) -> dict[str, dict[str, int]]:
    held = set(valid)
    train = Counter(label for i, label in enumerate(labels) if i not in held)
    checked = Counter(labels[i] for i in valid)
    return {label: {"train": train[label], "valid": checked[label]} for label in natural_order(set(labels))}


def groups_of(keys: list) -> list[list[int]]:
    """Indices that share a key (``None``: an item without one), in groups of two or more."""
    found: dict = {}
    for i, key in enumerate(keys):
        if key is not None:
            found.setdefault(key, []).append(i)
    return [group for group in found.values() if len(group) > 1]


def near_groups(bits: np.ndarray, within: int) -> list[list[int]]:
    """Indices whose bit strings (rows of ``bits``, uint8-packed) differ in at most ``within``
    bits, joined transitively (a to b to c is one group)."""
    n = len(bits)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ones = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(1).astype(np.uint8)
    for start in range(0, n, 256):  # row blocks keep the distance table small
        distance = ones[bits[start:start + 256, None, :] ^ bits[None, :, :]].sum(2)
        for a, b in zip(*np.nonzero(distance <= within), strict=True):
            a, b = a + start, int(b)
            if a < b:
                parent[root(a)] = root(b)
    by_root: dict[int, list[int]] = {}
    for i in range(n):
        by_root.setdefault(root(i), []).append(i)
    return [group for group in by_root.values() if len(group) > 1]


def findings(names: list[str], labels: list[str], valid: list[int], exact: list[list[int]],
             near: list[list[int]]) -> dict[str, list[list[str]]]:
    """The duplicate groups as names: identical, near-identical (not already identical), and of
    either, those across the split and those under more than one label."""
    held = set(valid)
    exact_sets = [set(group) for group in exact]
    near = [group for group in near if set(group) not in exact_sets]
    every = exact + near
    return {"duplicates": [[names[i] for i in group] for group in exact],
            "near_duplicates": [[names[i] for i in group] for group in near],
            "across_split": [[names[i] for i in group] for group in every
                             if any(i in held for i in group) and not all(i in held for i in group)],
            "conflicting": [[f"{names[i]} ({labels[i]})" for i in group] for group in every
                            if len({labels[i] for i in group}) > 1]}
