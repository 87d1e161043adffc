"""How good a model is on labelled data it never trained on, class by class.

Accuracy alone hides a class the model never gets right when that class is small; the per-class
precision, recall and F1 (scikit-learn's classification report, which fastai already installs)
show it, and the items with the highest loss show what the model gets most wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from petclf import calibration, inputs
from petclf.errors import UsageError
from petclf.images.data import LabelledImages
from petclf.inference import Classifier, predict_images, predict_series, prediction_sets
from petclf.metrics import score
from petclf.series.readers import SeriesSet


@dataclass(frozen=True)
class Evaluation:
    """A model's probabilities for labelled items."""

    classes: list[str]  # the model's
    items: list[str]  # image files, or series rows
    true: list[str]
    probs: np.ndarray  # (n, len(classes))
    item: str = "file"  # what an item is called: "file", or "row" of a series file

    @cached_property
    def predicted(self) -> list[str]:
        return [self.classes[i] for i in self.probs.argmax(1)]

    @cached_property
    def losses(self) -> np.ndarray:
        """Cross-entropy of each item: -log p(true label); infinite for a label the model lacks."""
        at = {label: i for i, label in enumerate(self.classes)}
        p_true = np.array([self.probs[n, at[t]] if t in at else 0.0 for n, t in enumerate(self.true)])
        with np.errstate(divide="ignore"):
            return -np.log(p_true)


def evaluate_images(classifier: Classifier, images: LabelledImages, bs: int = 64, tta: bool = False,
                    advance=lambda n: None) -> Evaluation:
    classes = classifier.meta.classes
    predictions = predict_images(classifier, images.files, bs=bs, top_k=len(classes), advance=advance, tta=tta)
    probs = np.array([[dict(p.top)[label] for label in classes] for p in predictions])
    return Evaluation(classes, images.names, images.labels, probs)


def evaluate_series(classifier: Classifier, series: SeriesSet, bs: int = 64, tta: bool = False,
                    advance=lambda n: None) -> Evaluation:
    probs = predict_series(classifier, series, bs=bs, advance=advance, tta=tta)
    return Evaluation(classifier.meta.classes, [str(row) for row in range(len(series.X))], series.labels, probs, "row")


@dataclass(frozen=True)
class Labels:
    """How the items of labelled data are labelled: a series file's ``label_col`` (None: the one
    the model was trained with); an image folder's labels as ``images.data.LabelSource`` reads them."""

    label_col: str | None = None
    label_re: str | None = None
    pets: bool = False
    csv: Path | None = None


def evaluate_data(classifier: Classifier, data: Path, labels: Labels = Labels(), bs: int = 64, tta: bool = False,
                  progress=None) -> tuple[Evaluation, SeriesSet | None]:
    """The model's probabilities for every labelled item of ``data`` (a series file or an image
    folder, as its model reads), and the series when they are series. ``progress(total, unit)``
    gives the context manager that counts items done (console.progress)."""
    from contextlib import nullcontext

    from petclf.images.data import LabelSource, labelled_images

    counting = progress or (lambda total, unit: nullcontext(lambda n: None))
    if classifier.meta.input == "series":
        inputs.refuse_image_labels(labels.label_re, labels.pets, labels.csv)
        series = classifier.meta.series.read(data, labels.label_col or classifier.meta.series.label_col)
        if series.labels is None:
            raise UsageError(f"{data}: has no labels to evaluate with")
        with counting(len(series.X), "series") as advance:
            return evaluate_series(classifier, series, bs, tta, advance), series
    images = labelled_images(data, LabelSource(labels.csv, labels.label_re, labels.pets))
    with counting(len(images.files), "images") as advance:
        return evaluate_images(classifier, images, bs, tta, advance), None


def report(evaluation: Evaluation, k: int = 5) -> dict:
    """Accuracy, top-k accuracy, and scikit-learn's classification report (precision, recall, F1
    and support per class, macro and weighted averages) over the classes that occur among the
    true or predicted labels, and the confusion matrix."""
    from sklearn.metrics import precision_recall_fscore_support

    true, predicted = evaluation.true, evaluation.predicted
    labels = [c for c in evaluation.classes if c in set(true) | set(predicted)] + sorted(
        set(true) - set(evaluation.classes))
    per_class = zip(labels, *precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0), strict=True)
    averages = {name: precision_recall_fscore_support(true, predicted, labels=labels, average=name,
                                                      zero_division=0)[:3] for name in ("macro", "weighted")}
    k = min(k, len(evaluation.classes))
    best = np.argsort(-evaluation.probs, axis=1, kind="stable")[:, :k]
    in_top = [t in {evaluation.classes[i] for i in row} for t, row in zip(true, best, strict=True)]
    scored = score(true, predicted, evaluation.classes)
    return {"items": len(true), "accuracy": scored.accuracy, "top_k": k, "top_k_accuracy": float(np.mean(in_top)),
            "classes": [{"class": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                        for c, p, r, f, s in per_class],
            **{f"{name}_avg": dict(zip(("precision", "recall", "f1"), map(float, values), strict=True))
               for name, values in averages.items()},
            "confusion_matrix": {"classes": scored.classes, "counts": scored.matrix}}


def calibration_report(evaluation: Evaluation, temperature: float) -> tuple[dict, dict]:
    """ECE, NLL and Brier score before and after the model's calibration (its ``temperature``:
    ``predict`` gives the probabilities after), and the reliability diagram's bins of each,
    over the items whose label the model knows."""
    known, labels = _known(evaluation)
    after = evaluation.probs[known]
    quality, bins = calibration.before_and_after(calibration.scaled(after, 1 / temperature), after, labels)
    return {"temperature": temperature, **quality}, bins


def coverage_report(evaluation: Evaluation, meta, limits: np.ndarray, coverage: float) -> tuple[dict, list[list[str]]]:
    """How often the prediction sets (``limits``: ``predict.set_thresholds``) hold the true label,
    and how large they are, over all items and per class; and the sets."""
    sets = prediction_sets(meta, evaluation.probs, limits)
    held = np.array([t in chosen for t, chosen in zip(evaluation.true, sets, strict=True)])
    sizes = np.array([len(chosen) for chosen in sets])
    true = np.array(evaluation.true)
    per_class = [{"class": c, "coverage": float(held[true == c].mean()), "mean_set_size": float(sizes[true == c].mean()),
                  "support": int((true == c).sum())} for c in dict.fromkeys(evaluation.true)]
    return {"coverage": coverage, "covered": float(held.mean()), "mean_set_size": float(sizes.mean()),
            "per_class": per_class}, sets


def _known(evaluation: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    at = {label: i for i, label in enumerate(evaluation.classes)}
    known = np.array([t in at for t in evaluation.true])
    return known, np.array([at[t] for t in evaluation.true if t in at], dtype=int)


def top_losses(evaluation: Evaluation, n: int) -> list[int]:
    """The ``n`` items the model got most wrong (highest loss first)."""
    return [int(i) for i in np.argsort(-evaluation.losses, kind="stable")[:n]]


def image_panels(evaluation: Evaluation, size: int, n: int = 12) -> list[dict]:
    """The top losses as the model saw them (``predict.prepare``'s pixels)."""
    from petclf.inference import prepare

    return [{"image": prepare(Path(evaluation.items[i]), size), "title": _title(evaluation, i)}
            for i in top_losses(evaluation, n)]


def series_panels(evaluation: Evaluation, series: SeriesSet, meta, n: int = 8) -> list[dict]:
    """The top losses as the model's image of each series (its GafStem's drawing) and the curve."""
    import torch

    rows = top_losses(evaluation, n)
    images = meta.series.imaging.draw(torch.from_numpy(series.X[rows])).numpy()
    return [{"image": image, "curve": series.X[i], "title": _title(evaluation, i)} for i, image in zip(rows, images, strict=True)]


def _title(evaluation: Evaluation, i: int) -> str:
    guess = int(evaluation.probs[i].argmax())
    name = _short_name(evaluation.items, i) if evaluation.item == "file" else f"row {evaluation.items[i]}"
    return (f"{name}\ntrue {evaluation.true[i]}, predicted {evaluation.classes[guess]}\n"
            f"p {evaluation.probs[i, guess]:.2f}, loss {evaluation.losses[i]:.2f}")


def _short_name(items: list[str], i: int) -> str:
    """A file as the path below the folder all the items share: class folders often reuse a
    file name (5/0005.png and 0/0005.png), which the name alone would not tell apart."""
    import os

    common = os.path.commonpath(items) if len(items) > 1 else str(Path(items[0]).parent)
    return os.path.relpath(items[i], common) if common != items[i] else Path(items[i]).name


def class_rows(summary: dict) -> list[dict]:
    """The report's rows as scikit-learn prints them: one per class, then the macro and
    weighted averages (their support: every item)."""
    averages = [{"class": f"{name} avg", **summary[f"{name}_avg"], "support": summary["items"]}
                for name in ("macro", "weighted")]
    return [*summary["classes"], *averages]


def predictions_table(evaluation: Evaluation) -> list[dict]:
    return [{evaluation.item: name, "label": guess, "probability": float(p.max()), "true_label": t, "loss": float(loss)}
            for name, guess, p, t, loss in zip(evaluation.items, evaluation.predicted, evaluation.probs,
                                               evaluation.true, evaluation.losses, strict=True)]


def write_report(evaluation: Evaluation, summary: dict, folder: Path, panels: list[dict], bins: dict,
                 sets: list[list[str]] | None = None) -> None:
    """The evaluation folder: report.json, per_class.csv, predictions.csv (with each prediction
    set), confusion_matrix.png (counts and row-normalised), top_losses.png (``panels``, as
    ``plots.save_top_losses``) and reliability.png (``bins``: ``calibration_report``'s)."""
    from petclf import plots
    from petclf.atomic import write_csv, write_json

    write_json(folder / "report.json", summary)
    write_csv(folder / "per_class.csv", class_rows(summary))
    rows = predictions_table(evaluation)
    for row, chosen in zip(rows, sets, strict=True) if sets is not None else []:
        row["set"] = ";".join(chosen)
    write_csv(folder / "predictions.csv", rows)
    plots.save_reliability(bins["before"], bins["after"], summary["calibration"], folder / "reliability.png",
                           f"{Path(summary['data']).name}, {len(evaluation.true)} items")
    matrix = summary["confusion_matrix"]
    plots.save_confusion_matrix(np.array(matrix["counts"]), matrix["classes"], folder / "confusion_matrix.png",
                                normalised=True)
    plots.save_top_losses(panels, folder / "top_losses.png")
