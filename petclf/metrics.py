"""Predictions against known labels: accuracy, the confusion matrix, macro-F1. Used by a
training run on its validation items, by ``predict series`` on a labelled file and by
``evaluate``; pure Python and numpy, nothing to import that ``predict`` would wait for."""

from __future__ import annotations

from dataclasses import dataclass

from petclf.splits import natural_order


@dataclass(frozen=True)
class Score:
    """Predictions against known labels."""

    accuracy: float
    classes: list[str]  # the model's, then any label it does not know
    matrix: list[list[int]]  # counts: true label (rows) by predicted label (columns)


def score(true: list[str], predicted: list[str], classes: list[str]) -> Score:
    """Accuracy and the confusion matrix, counted here: scikit-learn's ``confusion_matrix`` is the
    same count, but importing ``sklearn.metrics`` takes 1.8 s here, which ``predict series`` on a
    labelled file would wait for."""
    classes = list(classes) + natural_order(set(true) - set(classes))
    at = {label: i for i, label in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for t, p in zip(true, predicted, strict=True):
        matrix[at[t]][at[p]] += 1
    right = sum(t == p for t, p in zip(true, predicted, strict=True))
    return Score(right / len(true), classes, matrix)


def macro_f1(true: list[str], predicted: list[str]) -> float:
    """F1 averaged over classes with equal weight: what accuracy hides when one class is small."""
    from sklearn.metrics import f1_score

    return float(f1_score(true, predicted, average="macro", zero_division=0))
