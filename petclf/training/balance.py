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
    """scikit-learn's "balanced" weights, n / (k * count), for each of the model's ``classes``
    (k counts them all); a class with no training item gets 0, which scikit-learn refuses to weigh."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = [c for c in classes if c in set(labels)]
    weights = compute_class_weight("balanced", classes=np.array(present), y=np.array(labels)) * len(present) / len(classes)
    found = dict(zip(present, weights.tolist(), strict=True))
    return [found.get(c, 0.0) for c in classes]


def balanced_loader(loader, labels: list[str]):
    """``loader`` (the training DataLoader) drawing items with replacement, each with probability
    inversely proportional to the size of its class (labels in the loader's item order)."""
    from fastai.callback.data import WeightedDL

    counts = Counter(labels)
    return loader.new(cls=WeightedDL, wgts=[1 / counts[label] for label in labels])
