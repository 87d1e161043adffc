"""Probabilities a user can trust: a temperature fitted on held-out predictions, measures of how
well probabilities match frequencies, and conformal prediction sets with a coverage guarantee.

The held-out predictions are a run's validation predictions: out-of-fold for an ensemble (each
item predicted by the member that never trained on it), the validation split for one model.

**Temperature scaling** (Guo et al. 2017) divides the log-probabilities by one number T fitted by
log loss, so it changes how confident a model is, never what it predicts. A fine-tuned network on a
few dozen items is usually over-confident (T > 1 softens it). For an ensemble it scales the log of
the averaged probabilities, the ensemble's own output. The fit has a log-normal prior on T centred
on 1, worth one item: held-out predictions that are all right say nothing about how confident to
be (their log loss only falls as T does), and leave T near 1 rather than at its bound.

**Conformal prediction sets** (split conformal; Vovk et al. 2005, Angelopoulos & Bates 2021) with
the adaptive prediction sets score (APS, Romano et al. 2020) without its random part (U = 0): a
class's score is the probability mass of the classes more probable than it, so the most probable
class scores 0 and is in every set. An item's set holds
every class whose score is within the threshold, the ceil((n + 1) * coverage)-th smallest of the n
held-out items' scores at their true class; then the set holds the true class with probability at
least ``coverage`` for a new item drawn as the held-out ones were. Class-conditional (Mondrian):
one threshold per class from that class's items, so the guarantee holds within each class, which
matters when a rare class would otherwise be the one left out. The few lines of numpy below are the
whole method; TorchCP, crepes and MAPIE wrap the same lines around estimators petclf does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from petclf.errors import UsageError

BINS = 15  # of a reliability diagram and the ECE (Guo et al.)
_DIGITS = 6  # scores as the model file keeps them


@dataclass(frozen=True)
class Calibration:
    """What a model file keeps to calibrate its probabilities and to make prediction sets."""

    temperature: float
    scores: list[float]  # each held-out item's APS score at its true class, on calibrated probabilities
    labels: list[int]  # each held-out item's class (an index into the model's classes)

    def to_dict(self) -> dict:
        return {"temperature": self.temperature, "scores": self.scores, "labels": self.labels}

    @classmethod
    def from_dict(cls, raw: dict) -> Calibration:
        found = cls(float(raw["temperature"]), [float(s) for s in raw["scores"]], [int(k) for k in raw["labels"]])
        if not found.temperature > 0 or len(found.scores) != len(found.labels):
            raise ValueError("calibration needs a positive temperature and one label per score")
        return found


def calibrate(probs: np.ndarray, labels: np.ndarray) -> Calibration:
    """The temperature and conformal scores of held-out ``probs`` ``(n, k)`` with true ``labels``."""
    temperature = fit_temperature(np.log(np.clip(probs, 1e-12, 1)), labels)
    scores = aps_scores(scaled(probs, temperature))[np.arange(len(labels)), labels]
    return Calibration(round(temperature, _DIGITS), [round(float(s), _DIGITS) for s in scores],
                       [int(k) for k in labels])


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.01, 100] that minimises the log loss of softmax(``logits`` / T), with the prior."""
    from scipy.optimize import minimize_scalar

    prior = 1 / len(labels)  # (log T)^2 / 2 as one item's log loss among len(labels)
    result = minimize_scalar(lambda log_t: log_loss(softmax(logits / math.exp(log_t)), labels) + prior * log_t**2 / 2,
                             bounds=(math.log(0.01), math.log(100)), method="bounded")
    return math.exp(result.x)


def scaled(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``probs`` with their log divided by ``temperature`` (1: as they are)."""
    return probs if temperature == 1 else softmax(np.log(np.clip(probs, 1e-12, 1)) / temperature)


def softmax(logits: np.ndarray) -> np.ndarray:
    from scipy.special import softmax as scipy_softmax

    return scipy_softmax(logits, axis=1)


def log_loss(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1)).mean())


def quality(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, float]:
    """Expected calibration error, negative log-likelihood and Brier score (lower is better)."""
    onehot = np.eye(probs.shape[1])[labels]
    return {"ece": round(ece(probs, labels, bins), _DIGITS), "nll": round(log_loss(probs, labels), _DIGITS),
            "brier": round(float(((probs - onehot) ** 2).sum(1).mean()), _DIGITS)}


def before_and_after(before: np.ndarray, after: np.ndarray, labels: np.ndarray) -> tuple[dict, dict]:
    """``quality`` and ``reliability`` of probabilities before and after calibration: what a run's
    metrics.json and ``evaluate`` report, and the bins of their reliability diagram."""
    return ({"before": quality(before, labels), "after": quality(after, labels)},
            {"before": reliability(before, labels), "after": reliability(after, labels)})


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[dict]:
    """The reliability diagram's bins of equal width in confidence (the top probability): each
    one's mean confidence, accuracy and count (empty bins left out)."""
    confidence, right = probs.max(1), probs.argmax(1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return [{"low": b / bins, "high": (b + 1) / bins, "confidence": float(confidence[which == b].mean()),
             "accuracy": float(right[which == b].mean()), "count": int((which == b).sum())}
            for b in range(bins) if (which == b).any()]


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """The count-weighted mean gap between confidence and accuracy over the reliability bins."""
    return float(sum(b["count"] * abs(b["confidence"] - b["accuracy"]) for b in reliability(probs, labels, bins))
                 / len(labels))


def aps_scores(probs: np.ndarray) -> np.ndarray:
    """Each class's score ``(n, k)``: the mass of the classes more probable than it (ties broken
    by class order, as the sets are)."""
    order = np.argsort(-probs, axis=1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=1)
    mass = ranked.cumsum(1) - ranked
    scores = np.empty_like(mass)
    np.put_along_axis(scores, order, mass, axis=1)
    return scores


def thresholds(calibration: Calibration, coverage: float, n_classes: int, class_conditional: bool = False,
               classes: list[str] | None = None) -> np.ndarray:
    """The score threshold of each class ``(k,)`` for sets of ``coverage``."""
    check_coverage(coverage)
    scores, labels = np.asarray(calibration.scores), np.asarray(calibration.labels)
    if not class_conditional:
        return np.full(n_classes, _quantile(scores, coverage))
    names = classes or [str(k) for k in range(n_classes)]
    return np.array([_quantile(scores[labels == k], coverage, f" of class {names[k]!r}") for k in range(n_classes)])


def prediction_sets(probs: np.ndarray, limits: np.ndarray) -> list[list[int]]:
    """Each item's set: the classes whose score is within their threshold, most probable first.
    The most probable class scores 0, so a set is never empty."""
    scores = aps_scores(probs)
    order = np.argsort(-probs, axis=1, kind="stable")
    return [[int(c) for c in row if s[c] <= limits[c] + 1e-9] for row, s in zip(order, scores, strict=True)]


def check_coverage(coverage: float) -> float:
    if not 0 < coverage < 1:
        raise UsageError(f"--coverage must lie strictly between 0 and 1, e.g. 0.9 (got {coverage})")
    return coverage


def _quantile(scores: np.ndarray, coverage: float, which: str = "") -> float:
    """The ceil((n + 1) * coverage)-th smallest of ``scores``: the conformal threshold."""
    n = len(scores)
    rank = math.ceil((n + 1) * coverage - 1e-9)
    if rank > n:
        need = math.ceil(coverage / (1 - coverage) - 1e-9)
        raise UsageError(f"--coverage {coverage} needs at least {need} held-out items{which}; the model has {n}: "
                         "choose a lower coverage (or train with more data)")
    return float(np.sort(scores)[rank - 1])
