"""Series files to field images (fields.py: GAF, MTF, recurrence plot, or a stack of three) on disk, in the class-folder layout that
``petclf train`` reads: ``OUT/<label>/<row>.png`` (flat when unlabelled), or the same under
``OUT/train`` / ``OUT/valid`` with ``split``.

Fields are computed a chunk of series at a time on the main thread (torch uses every core
there), while a thread pool encodes and writes the previous chunk: Pillow's PNG encoder
releases the GIL, so writing scales with cores. PNGs use zlib level 1, about twice as fast
as Pillow's default for files about 10% larger. Everything is written into a temporary folder
that replaces the output folder only once complete.
"""

from __future__ import annotations

import csv
import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petclf import console, inputs
from petclf.atomic import atomic_dir
from petclf.errors import DataError, UsageError
from petclf.plots import a_few_of_each, save_image_grid
from petclf.series import fields, gaf
from petclf.series.fields import Imaging
from petclf.series.readers import SeriesSet

FORMATS = ("png", "npy")
SPLITS = ("train", "valid")
PREVIEW_PER_CLASS = 4
PREVIEW_MAX_CLASSES = 12
_CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class TsImageReport:
    folder: Path
    n_images: int
    class_counts: dict[str, int] = field(default_factory=dict)
    manifest: Path | None = None
    preview: Path | None = None


def write_tsimages(series: SeriesSet, out_dir: Path, imaging: Imaging = Imaging(),
                   fmt: str = "png", split: str | None = None, overwrite: bool = False,
                   workers: int | None = None, quiet: bool = False) -> TsImageReport:
    """Write one image per series and a ``manifest.csv`` beside them, and a ``preview.png``
    beside the class folders: with ``split``, as ``OUT/preview-<split>.png`` next to the split's
    folder, where no tool takes it for an image of a class called "train". Each series is
    scaled on its own (``imaging.scaling`` "series"): there is no training set to take bounds from."""
    imaging.check()
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if split is not None and split not in SPLITS:
        raise UsageError(f"--split must be one of {', '.join(SPLITS)} (got {split!r})")
    lut = gaf.colormap_lut(imaging.colormap)
    files = _file_names(series, fmt)
    folder = Path(out_dir) / split if split else Path(out_dir)
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        for sub in {name.split("/")[0] for name in files if "/" in name}:
            (tmp / sub).mkdir()
        _write_fields(series, files, tmp, imaging, lut, fmt, workers, quiet)
        _write_manifest(series, files, split, tmp / inputs.TSIMAGE_MANIFEST)
        if not split:
            _write_preview(series, imaging, lut, tmp / "preview.png")
    preview = Path(out_dir) / f"preview-{split}.png" if split else folder / "preview.png"
    if split:
        _write_preview(series, imaging, lut, preview)
    counts = {label: (series.labels or []).count(label) for label in series.classes}
    return TsImageReport(folder, len(files), counts, folder / inputs.TSIMAGE_MANIFEST, preview)


def folder_name(label: str) -> str:
    """A label as a safe folder name: path separators and control characters become '_'."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", label).strip()
    return name if name not in ("", ".", "..") else f"_{name}"


def _file_names(series: SeriesSet, fmt: str) -> list[str]:
    width = max(4, len(str(len(series.X) - 1)))
    stems = [f"{row:0{width}d}.{fmt}" for row in range(len(series.X))]
    if series.labels is None:
        return stems
    folders = {label: folder_name(label) for label in series.classes}
    if len(set(folders.values())) < len(folders):
        clash = sorted(folders, key=folders.get)
        raise DataError(series.source, f"labels {clash} would share a folder name; rename them")
    return [f"{folders[label]}/{stem}" for label, stem in zip(series.labels, stems, strict=True)]


def _write_fields(series: SeriesSet, files: list[str], tmp: Path, imaging: Imaging,
                  lut, fmt: str, workers: int | None, quiet: bool) -> None:
    import torch

    n, channels, _ = series.X.shape
    chunk = max(1, min(256, _CHUNK_BYTES // (channels * imaging.size**2 * 4)))
    pending: deque[Future] = deque()
    with console.progress("tsimage", total=n, unit="images", quiet=quiet) as advance, \
            ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        for start in range(0, n, chunk):
            x = torch.from_numpy(series.X[start:start + chunk])
            images = (imaging.draw(x, lut) if fmt == "png"
                      else fields.series_fields(x, imaging.method, imaging.size, imaging.bounds())).numpy()
            for i, image in enumerate(images, start):
                pending.append(pool.submit(_save, image, tmp / files[i]))
            while len(pending) > chunk:
                pending.popleft().result()
                advance(1)
        while pending:
            pending.popleft().result()
            advance(1)


def _save(image: np.ndarray, path: Path) -> None:
    if path.suffix == ".npy":
        np.save(path, image)
        return
    from PIL import Image

    Image.fromarray(image).save(path, compress_level=1)


def _write_manifest(series: SeriesSet, files: list[str], split: str | None, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(inputs.TSIMAGE_MANIFEST_HEADER.split(","))
        labels = series.labels or [""] * len(files)
        writer.writerows([row, name, label, split or ""] for row, (name, label) in enumerate(zip(files, labels, strict=True)))


def _write_preview(series: SeriesSet, imaging: Imaging, lut, path: Path) -> None:
    """A few images of each class (of the first classes when there are many), in file order."""
    import torch

    labels = series.labels or ["(unlabelled)"] * len(series.X)
    picks = a_few_of_each(labels, PREVIEW_PER_CLASS * (1 if series.labels else 2), PREVIEW_MAX_CLASSES)
    rows = [row for chosen in picks.values() for row in chosen]
    images = iter(imaging.draw(torch.from_numpy(series.X[rows]), lut).numpy())
    grid = {label: [next(images) for _ in chosen] for label, chosen in picks.items()}
    one_field = not fields.stacked(imaging.method)
    save_image_grid(grid, path, f"{series.source.name}: {imaging.describe()}", colorbar=lut.numpy() if one_field else None)
