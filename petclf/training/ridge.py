"""A ridge member (``--member ridge``): the pretrained body stays as it is, and a ridge classifier
on its pooled features is the whole of the training. On small series sets such a linear probe
does as well as fine-tuning in a few seconds, with no learning rate to choose and no epoch to
keep (TiViT: a frozen ViT and a linear head average 0.81 over 128 UCR sets; bench/ucr_probe.py).

scikit-learn's RidgeClassifierCV chooses its penalty by leave-one-out on the training items
(features standardised first). Its decision values are not probabilities: a temperature, fitted
by log loss on the held-out decisions of that penalty (leave-one-out up to ``LOO_MOST`` items,
else 10 folds) with calibration.py's prior, makes them ones an ensemble can average. The
scaler and the temperature fold into the head's linear layer, so the member is an ordinary
model file (``NetSpec.head == "linear"``) that predict, evaluate, explain and ONNX take as any.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

# ROCKET's and MiniRocket's grid. A wider one (1e-6 to 1e6) tied on nine of ten training files'
# halves and lost PigCVP's (0.455 against 0.628): with one series a class, leave-one-out's squared
# error keeps falling as the penalty grows, and chose 1e6 (bench/results/ucr-probe.md).
ALPHAS = np.logspace(-3, 3, 13)
LOO_MOST = 300  # leave-one-out decisions up to this many training items, 10 folds above
CLIP = 50.0  # decisions of a class a fold never saw: scikit-learn fills the float minimum


def fit_ridge(learn, seen: dict | None = None) -> tuple[list[dict], tuple]:
    """Fit the linear head of ``learn.model`` (body frozen) on its training items; returns the
    history row the run folder keeps for it, and fastai's predictions on the validation items
    (probabilities, targets, losses) that row reports. ``seen``: the body's outputs for the
    series earlier members read (model/layers.RememberedBody), filled in for those after."""
    with _remembering(learn.model, {} if seen is None else seen):
        return _fit(learn)


@contextmanager
def _remembering(model, seen: dict):
    """``model``'s body as a RememberedBody within; itself again after, as the model file keeps it."""
    from petclf.model.layers import RememberedBody

    body = model[-2]
    model[-2] = RememberedBody(body, seen)
    try:
        yield
    finally:
        model[-2] = body


def _fit(learn) -> tuple[list[dict], tuple]:
    import torch
    from sklearn.linear_model import RidgeClassifier, RidgeClassifierCV
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.preprocessing import StandardScaler

    from petclf.model.layers import last_linear

    started = time.perf_counter()
    features, labels = _features(learn, learn.dls.train.new(shuffle=False, drop_last=False))
    scaler = StandardScaler().fit(features)
    standard = scaler.transform(features)
    ridge = RidgeClassifierCV(alphas=ALPHAS).fit(standard, labels)
    held_out = cross_val_predict(RidgeClassifier(alpha=ridge.alpha_), standard, labels, method="decision_function",
                                 cv=LeaveOneOut() if len(labels) <= LOO_MOST else 10)
    decisions = np.clip(_decisions(held_out.reshape(len(labels), -1)), -CLIP, CLIP)
    columns = np.searchsorted(ridge.classes_, labels)
    temperature = held_out_temperature(decisions, columns)
    linear = last_linear(learn.model)
    weight, bias = _folded(ridge, scaler, temperature, linear.out_features)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(weight))
        linear.bias.copy_(torch.from_numpy(bias))
    preds = learn.get_preds(dl=learn.dls.valid, with_loss=True)
    valid_loss, accuracy = _validation(*preds)
    return [{"epoch": 0, "phase": "ridge", "train_loss": round(_log_loss(temperature * decisions, columns), 6),
             "valid_loss": valid_loss,
             "error_rate": 1 - accuracy, "accuracy": accuracy, "seconds": round(time.perf_counter() - started, 2),
             "alpha": float(ridge.alpha_), "temperature": temperature}], preds


def held_out_temperature(decisions: np.ndarray, columns: np.ndarray) -> float:
    """The factor on the ridge's decisions that fits their held-out log loss, with calibration's
    prior: held-out decisions that all fall on the right side (leave-one-out on a few dozen
    series often does) would otherwise push it to its bound, and the member would call its first
    wrong answer certain (ItalyPowerDemand: a fold's log loss 5.2 at 0.92 accuracy)."""
    from petclf.calibration import fit_temperature

    return 1 / fit_temperature(decisions, columns)


def _features(learn, loader) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features (the head's input to its linear layer) of every item ``loader`` gives."""
    import torch

    from petclf.model.layers import linear_input

    model = learn.model.eval()
    found, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            found.append(linear_input(model, x).float().cpu().numpy())
            labels.append(y.cpu().numpy())
    return np.concatenate(found).astype(np.float64), np.concatenate(labels)


def _decisions(values: np.ndarray) -> np.ndarray:
    """Decision values as one column per class (a two-class ridge has one)."""
    return np.concatenate([-values, values], axis=1) / 2 if values.shape[1] == 1 else values


def _log_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean log loss of ``scores`` (one column per class the ridge saw) for ``labels``, their columns."""
    from scipy.special import log_softmax

    return float(-log_softmax(scores, axis=1)[np.arange(len(labels)), labels].mean())


def _folded(ridge, scaler, temperature: float, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The linear layer that gives ``temperature`` x the ridge's decisions on raw features, one
    row per class in the model's order. A class the ridge never saw (absent from these training
    items) gets a row of zeros and the lowest bias."""
    coef, intercept = np.atleast_2d(ridge.coef_), np.atleast_1d(ridge.intercept_)
    if coef.shape[0] == 1:  # two classes: one decision, positive for the second
        coef, intercept = np.concatenate([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    weight = coef / scaler.scale_
    bias = intercept - weight @ scaler.mean_
    full_weight = np.zeros((n_classes, weight.shape[1]))
    full_bias = np.full(n_classes, bias.min() - 10.0)
    full_weight[ridge.classes_], full_bias[ridge.classes_] = weight, bias
    return (temperature * full_weight).astype(np.float32), (temperature * full_bias).astype(np.float32)


def _validation(probs, targets, losses) -> tuple[float, float]:
    """Loss and accuracy on the validation items, as an epoch's row reports them."""
    return round(float(losses.mean()), 6), round(float((probs.argmax(1) == targets).float().mean()), 6)
