"""Training on classes of very different sizes (``--balance``).

With one class ten times the size of another, a model can score well by rarely predicting the
small one; accuracy then hides it, which is why a run also reports macro-F1. Two remedies, as
in scikit-learn and fastai: weight each class's loss by the inverse of its size
(``weights``, scikit-learn's ``class_weight="balanced"``), or draw the training batches so that
every class comes up equally often (``sample``, fastai's ``WeightedDL``).
"""

from __future__ import annotations

from collections import Counter

from petclf.errors import UsageError

CHOICES = ("weights", "sample")


def check_balance(balance: str | None) -> str | None:
    if balance not in (None, *CHOICES):
        raise UsageError(f"--balance must be one of {', '.join(CHOICES)} (got {balance!r})")
    return balance


def class_weights(labels: list[str], classes: list[str]) -> list[float]:
    """n / (k * count) for each class: scikit-learn's "balanced" weights, mean 1 over the items."""
    counts = Counter(labels)
    return [len(labels) / (len(classes) * counts[c]) if counts[c] else 0.0 for c in classes]


def balanced_loader(loader, labels: list[str]):
    """``loader`` (the training DataLoader) drawing items with replacement, each with probability
    inversely proportional to the size of its class (labels in the loader's item order)."""
    from fastai.callback.data import WeightedDL

    counts = Counter(labels)
    return loader.new(cls=WeightedDL, wgts=[1 / counts[label] for label in labels])
