"""Classify images or series with a model file, or with its ONNX export.

The network is rebuilt from the file's metadata and its weights loaded from safetensors: no
pickle, no fastai (whose import alone takes ~10 s). An exported ``.onnx`` file runs on
onnxruntime instead, without importing torch at all (``model.onnx``). Images are prepared as
fastai prepares a validation batch for ``Resize(size)``: RGB, the centred square crop, bilinear
resize, /255, normalised, so predictions match those made at the end of training. Series go to
the model as they are: its ``GafStem`` makes their images, as it did in training.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from petclf import calibration
from petclf.errors import DataError, UsageError
from petclf.images.data import IMAGE_ERRORS, hidden, image_suffixes, open_rgb
from petclf.model.file import ModelMeta
from petclf.model.onnx import SUFFIX, load_onnx
from petclf.series import augment
from petclf.series.readers import SeriesSet

if TYPE_CHECKING:
    import torch




@dataclass(frozen=True)
class Classifier:
    """A model ready to predict: load it once, classify many times."""

    meta: ModelMeta
    probabilities: Callable[[np.ndarray], np.ndarray]  # a batch as read (uint8 NHWC pixels, or series)
    device: str  # where it runs: "cpu", "cuda:0"
    model: torch.nn.Module | None = None  # the torch module behind ``probabilities``; None for ONNX


def set_thresholds(meta: ModelMeta, coverage: float, class_conditional: bool = False) -> np.ndarray:
    """Each class's conformal threshold for prediction sets of ``coverage`` (calibration.py),
    from the held-out scores the model file keeps; checked before anything is predicted."""
    calibration.check_coverage(coverage)
    if meta.calibration is None:
        raise UsageError("this model file keeps no held-out scores (trained before petclf calibrated its models, "
                         "or a run stopped before its end): finish or repeat the training to get prediction sets")
    return calibration.thresholds(meta.calibration, coverage, len(meta.classes), class_conditional, meta.classes)


def prediction_sets(meta: ModelMeta, probs: np.ndarray, limits: np.ndarray) -> list[list[str]]:
    """Each item's prediction set, most probable class first (``set_thresholds``' ``limits``)."""
    return [[meta.classes[c] for c in chosen] for chosen in calibration.prediction_sets(probs, limits)]


@dataclass(frozen=True)
class Prediction:
    file: Path
    top: list[tuple[str, float]] = field(default_factory=list)  # (label, probability), best first
    error: str | None = None


def load_classifier(path: Path, device: str = "auto", input: str | None = "image") -> Classifier:
    """The model in ``path`` (a model file or run folder, or an exported ``.onnx`` file), which
    must classify ``input`` (None: either)."""
    classifier = _load_exported(path, device) if Path(path).suffix == SUFFIX else load_torch(path, device)
    meta = classifier.meta
    if input is not None and meta.input != input:
        plural = {"image": "images", "series": "series"}
        raise UsageError(f"{path}: this model classifies {plural[meta.input]}, not {plural[input]} "
                         f"(use petclf predict {meta.input})")
    return classifier


def load_torch(path: Path, device: str = "auto") -> Classifier:
    """A model file or run folder, as a torch module."""
    import torch

    from petclf.model.load import load_module

    model, meta, torch_device = load_module(path, device)

    def probabilities(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(batch).to(torch_device)).cpu().numpy()

    return Classifier(meta, probabilities, str(torch_device), model)


def _load_exported(path: Path, device: str) -> Classifier:
    if device not in ("auto", "cpu"):
        raise UsageError(f"--device {device}: an exported .onnx model runs on the CPU (onnxruntime); "
                         "give the .safetensors model to predict on a GPU")
    meta, probabilities = load_onnx(path)
    return Classifier(meta, probabilities, "cpu")


def image_files(inputs: list[Path]) -> list[Path]:
    """Files as given, and the image files inside folders (recursively, sorted)."""
    files = []
    suffixes = image_suffixes()
    for path in map(Path, inputs):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                            and not hidden(p, path))
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not files:
        raise UsageError(f"no image files in {', '.join(map(str, inputs))}")
    return files


def prepare(path: Path, size: int) -> np.ndarray:
    """uint8 HWC RGB pixels, as fastai's validation ``Resize(size)`` (crop method) gives them."""
    from PIL import Image

    image = open_rgb(path)
    width, height = image.size
    scale = min(width / size, height / size)
    side = int(scale * size)
    left, top = int(0.5 * (width - side)), int(0.5 * (height - side))
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR))


def predict_images(classifier: Classifier, files: list[Path], bs: int = 64, top_k: int = 1,
                   workers: int | None = None, advance=lambda n: None, tta: bool = False) -> list[Prediction]:
    """Predictions for ``files`` (see ``image_files``), in their order; with ``tta``, the mean of
    the image's and its mirror image's (the flip that training's augmentation teaches).

    ``workers`` threads decode images ahead of the forward pass. Default: on a GPU, one per
    core (the cores are otherwise idle); on the CPU, none (decoding in between batches),
    because there the forward pass already uses every core and extra threads only contend
    (0.87x vs 0.77x of a bare forward pass on 2 cores, bench/bench_predict.py)."""
    if bs < 1 or top_k < 1:
        raise UsageError("--bs and --top-k must be at least 1")
    meta = classifier.meta
    if workers is None:
        workers = 0 if classifier.device == "cpu" else os.cpu_count() or 1
    k = min(top_k, len(meta.classes))
    results: dict[Path, Prediction] = {}
    for batch in _decoded_batches(files, meta.image_size, bs, workers):
        good = [(path, pixels) for path, pixels in batch if isinstance(pixels, np.ndarray)]
        results.update({path: Prediction(path, error=pixels) for path, pixels in batch if isinstance(pixels, str)})
        if good:
            pixels = np.stack([p for _, p in good])
            views = [pixels, np.ascontiguousarray(pixels[:, :, ::-1])] if tta else [pixels]
            probs = np.mean([classifier.probabilities(view) for view in views], axis=0)
            best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
            for (path, _), p, i in zip(good, probs, best, strict=True):
                results[path] = Prediction(path, [(meta.classes[c], float(p[c])) for c in i])
        advance(len(batch))
    return [results[path] for path in files]


def predict_series(classifier: Classifier, series: SeriesSet, bs: int = 64, advance=lambda n: None,
                   tta: bool = False) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` for each series; with ``tta``, the mean over the
    series and ``augment.TTA_WINDOWS`` windows of it (``augment.window_views``)."""
    if bs < 1:
        raise UsageError("--bs must be at least 1")
    want = classifier.meta.series
    (_, channels, length) = series.X.shape
    if (channels, length) != (want.channels, want.length):
        hint = {want.length - 1: " (if the file has no label column, pass --no-labels)",
                want.length + 1: " (if its first column is the label, leave out --no-labels)"}.get(length, "")
        raise DataError(series.source, f"series are {channels} channel(s) x {length} values; the model "
                                       f"was trained on {want.channels} x {want.length}{hint}")
    probs = []
    for start in range(0, len(series.X), bs):
        batch = series.X[start:start + bs]
        views = [batch, *augment.window_views(batch)] if tta else [batch]
        probs.append(np.mean([classifier.probabilities(view) for view in views], axis=0))
        advance(len(batch))
    return np.concatenate(probs)


def _decoded_batches(files: list[Path], size: int, bs: int,
                     workers: int) -> Iterator[list[tuple[Path, np.ndarray | str]]]:
    """Batches of (file, pixels or error message): decoded on ``workers`` threads up to two
    batches ahead, or as each batch is needed when ``workers`` is 0."""
    if workers == 0:
        for start in range(0, len(files), bs):
            yield [(path, _prepare_or_error(path, size)) for path in files[start:start + bs]]
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[tuple[Path, Future]] = deque()
        for path in files:
            pending.append((path, pool.submit(_prepare_or_error, path, size)))
            if len(pending) >= 2 * bs:
                yield [(p, f.result()) for p, f in (pending.popleft() for _ in range(bs))]
        while pending:
            count = min(bs, len(pending))
            yield [(p, f.result()) for p, f in (pending.popleft() for _ in range(count))]


def _prepare_or_error(path: Path, size: int) -> np.ndarray | str:
    try:
        return prepare(path, size)
    except IMAGE_ERRORS as error:
        return str(DataError(path, f"cannot read the image ({error})"))
