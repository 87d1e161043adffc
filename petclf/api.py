"""petclf as a library, for notebooks and scripts: what the commands do, one call each, with the
same options and the same files.

    import petclf

    run = petclf.train("samples/GunPoint/GunPoint_TRAIN.tsv", "runs/gunpoint", arch="tf_efficientnet_lite0")
    model = petclf.load_model(run.folder)
    predictions = petclf.inference(model, "samples/GunPoint/GunPoint_TEST.tsv")

These are the functions the command line calls (``petclf train`` is ``train`` plus printing), so
a run folder or model file made here is the one the commands make. Nothing is printed unless
``quiet=False``; a problem with the input raises ``petclf.errors.PetclfError`` (``UsageError`` or
``DataError``), whose message is the one-line error the command line prints.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from petclf.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from petclf.inference import Classifier
    from petclf.training.run import TrainReport

PathLike = str | Path


def train(data: PathLike, out: PathLike, *, valid: PathLike | None = None, valid_pct: float = 0.2,
          label_re: str | None = None, pets: bool = False, labels_csv: PathLike | None = None,
          label_col: str = "0", lengths: str = "pad", overwrite: bool = False, quiet: bool = True,
          **options) -> TrainReport:
    """Train on ``data`` (an image folder or a series file) and write the run folder ``out``, as
    ``petclf train DATA --out OUT`` does. ``valid``, ``valid_pct``, ``label_re``, ``pets``,
    ``labels_csv``, ``label_col`` and ``lengths`` say how the data are labelled and split, as the
    options of the same names do.

    :param options: any option of a run (``petclf.training.recipe.TrainOptions``): ``arch``,
        ``epochs``, ``lr``, ``size``, ``bs``, ``member``, ``folds``, ``seed``, ``device``, …;
        what is not given takes the default for the data, as on the command line.
    :return: the run folder and its metrics (what ``metrics.json`` holds).
    """
    from petclf.training.recipe import TrainOptions
    from petclf.training.run import train as run_training
    from petclf.training.source import load, source_of

    unknown = set(options) - {f.name for f in fields(TrainOptions)}
    if unknown:
        raise UsageError(f"train() got unknown options: {', '.join(sorted(unknown))}")
    run = TrainOptions(**options)
    source = source_of(Path(data), _path(valid), valid_pct, label_re, pets, _path(labels_csv), label_col, lengths)
    labelled = load(source, run.seed, quiet)
    return run_training(labelled, run, Path(out), overwrite=overwrite, quiet=quiet, source=source)


def resume(run: PathLike, epochs: int | None = None, *, device: str = "auto", quiet: bool = True) -> TrainReport:
    """Go on with the run folder ``run``, as ``petclf train --resume RUN [--epochs N]`` does: a
    run Ctrl-C stopped, from its last completed epoch (``epochs`` None), or a finished one for
    ``epochs`` more; with the data and options its args.json keeps."""
    from petclf.training.resume import resume as resume_run

    return resume_run(Path(run), epochs, device, quiet=quiet)


def load_model(path: PathLike, device: str = "auto") -> Classifier:
    """A model file (``model.safetensors``), run folder or exported ``.onnx`` file, loaded once to
    predict many times. No code in the file runs: it holds weights and JSON, no pickle."""
    from petclf.inference import load_classifier

    return load_classifier(Path(path), device, input=None)


@dataclass(frozen=True)
class Predicted:
    """One item's prediction."""

    item: str  # the image file, or the series' row in its file
    label: str  # the most probable class
    probability: float  # its calibrated probability
    probabilities: dict[str, float]  # every class's, in the model's class order


def predict(model: Classifier | PathLike, items: PathLike | list[PathLike] | np.ndarray, *, bs: int = 64,
            tta: bool | None = None, label_col: str | None = None) -> list[Predicted]:
    """Classify ``items`` with ``model`` (``load_model``'s result, or a path to load from).

    :param items: for an image model, image files and folders (searched recursively); for a series
        model, a series file, or an array ``(n, length)`` or ``(n, channels, length)``.
    :param tta: average test-time views (images: the mirror image; series: windows); None: the
        model's default, as ``predict`` on the command line.
    :param label_col: a series file's label column, if not the one the model was trained with.
    """
    import numpy as np

    from petclf.inference import image_files, predict_images, predict_series
    from petclf.series.readers import SeriesSet

    classifier = model if hasattr(model, "meta") else load_model(model)
    classes = classifier.meta.classes
    if classifier.meta.input == "image":
        files = image_files([Path(p) for p in (items if isinstance(items, list) else [items])])
        found = predict_images(classifier, files, bs=bs, top_k=len(classes), tta=bool(tta))
        bad = next((p for p in found if p.error), None)
        if bad is not None:
            raise UsageError(f"{bad.file}: {bad.error}")
        names, probs = [str(p.file) for p in found], np.array([[dict(p.top)[c] for c in classes] for p in found])
    else:
        want = classifier.meta.series
        if isinstance(items, np.ndarray):
            X = _checked(items, want.length if want.lengths else None, want.lengths or "pad")
            series = SeriesSet(X, None, Path("array"))
        else:
            series = want.read(Path(items), label_col or want.label_col)
        probs = predict_series(classifier, series, bs=bs, tta=classifier.meta.tta if tta is None else tta)
        names = [str(row) for row in range(len(probs))]
    return [Predicted(name, classes[int(p.argmax())], float(p.max()), dict(zip(classes, map(float, p), strict=True)))
            for name, p in zip(names, probs, strict=True)]


def evaluate(model: Classifier | PathLike, data: PathLike, *, bs: int = 64, tta: bool | None = None,
             top_k: int = 5, label_col: str | None = None, label_re: str | None = None, pets: bool = False,
             labels_csv: PathLike | None = None) -> dict:
    """Measure ``model`` on labelled ``data`` it never trained on, as ``petclf evaluate`` does
    (without writing its report folder).

    :return: ``items``, ``accuracy``, ``top_k_accuracy``, ``classes`` (precision, recall, F1 and
        support per class), ``macro_avg``, ``weighted_avg``, ``confusion_matrix``, and
        ``calibration`` (ECE, log loss and Brier score, before and after the model's temperature).
    """
    from petclf.evaluation import report as ev

    classifier = model if hasattr(model, "meta") else load_model(model)
    if tta is None:
        tta = classifier.meta.tta
    labels = ev.Labels(label_col, label_re, pets, _path(labels_csv))
    evaluation, _ = ev.evaluate_data(classifier, Path(data), labels, bs, tta)
    quality, _ = ev.calibration_report(evaluation, classifier.meta.temperature)
    return {**ev.report(evaluation, top_k), "calibration": quality}


def series_to_images(series: PathLike | np.ndarray, method: str = "gadf", size: int = 128,
                     colormap: str = "viridis", lengths: str = "pad") -> np.ndarray:
    """Series as the images ``petclf tsimage`` draws (and a series model sees), uint8 RGB
    ``(n, height, width, 3)``.

    :param series: a series file, or an array ``(n, length)`` or ``(n, channels, length)``.
    :param method: a field (``gadf``, ``gasf``, ``mtf``, ``rp``, ``seg``, ``mat``), three joined by
        ``+`` (a colour stack) or several by ``,`` (views side by side), as ``--method`` takes.
    """
    import numpy as np
    import torch

    from petclf.series.fields import Imaging
    from petclf.series.readers import read_series

    X = _checked(series, fit=lengths) if isinstance(series, np.ndarray) else read_series(Path(series), fit=lengths).X
    imaging = Imaging(method, size, colormap).check()
    with torch.no_grad():
        return imaging.draw(torch.from_numpy(np.ascontiguousarray(X))).numpy()


def _checked(X: np.ndarray, length: int | None = None, fit: str = "pad") -> np.ndarray:
    """An array of series ``(n, L)`` or ``(n, C, L)`` as a file's are read: gaps (NaN) filled,
    infinities refused, made ``length`` long as ``fit`` says (readers.uniform)."""
    import numpy as np

    from petclf.series.readers import uniform

    if X.ndim not in (2, 3):
        raise UsageError(f"an array of series must be (n, length) or (n, channels, length), not {X.ndim}-d")
    rows = X[:, None, :] if X.ndim == 2 else X
    return uniform(Path("array"), list(rows.astype(np.float64)), length, fit)[0]


def _path(path: PathLike | None) -> Path | None:
    return None if path is None else Path(path)


__all__ = ["Predicted", "evaluate", "load_model", "predict", "resume", "series_to_images", "train"]
