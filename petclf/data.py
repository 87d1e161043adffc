"""Labelled images from a folder, and fastai DataLoaders over them.

Labels come from, in this order of precedence:
- ``csv``: a CSV file with a header; the first column is a file (relative to DATA), the second its label;
- ``label_re``: a regular expression whose first group, matched against each file name, is the label;
- ``pets``: the fast.ai book's Oxford-IIIT Pets rule, upper-case first letter = cat, else dog;
- folders: ``DATA/<label>/...``; with ``DATA/train`` and ``DATA/valid`` (what ``tsimage --split``
  writes) those are the split, otherwise ``valid_pct`` of the images, chosen with ``seed``.

Files that are not images (by extension) are skipped and counted, as are images a
``label_re`` does not match; images that cannot be decoded are reported by name and left out.
"""

from __future__ import annotations

import csv
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from petclf.errors import DataError, UsageError

# What Pillow raises for a file that is not a decodable image (truncated, not an image, too big).
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

@dataclass(frozen=True)
class LabelSource:
    csv: Path | None = None
    label_re: str | None = None
    pets: bool = False


class LabelledSplit:
    """Labelled items split for training: ``labels`` (one per item) and ``valid`` (indices)."""

    labels: list[str]
    valid: list[int]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    @property
    def train(self) -> list[int]:
        held = set(self.valid)
        return [i for i in range(len(self.labels)) if i not in held]


@dataclass(frozen=True)
class LabelledImages(LabelledSplit):
    files: list[Path]
    labels: list[str]
    valid: list[int]  # indices into files
    skipped: int = 0  # files that are not images, or whose name --label-re does not match
    unreadable: list[Path] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [str(path) for path in self.files]


def image_suffixes() -> set[str]:
    return {suffix.lower() for suffix in Image.registered_extensions()}


def find_images(data: Path, labels: LabelSource = LabelSource(), valid_pct: float = 0.2,
                seed: int = 42, workers: int | None = None) -> LabelledImages:
    data = Path(data)
    if not data.is_dir():
        raise UsageError(f"{data}: no such folder")
    if not 0 < valid_pct < 1:
        raise UsageError(f"--valid-pct must be between 0 and 1 (got {valid_pct})")
    split = [data / "train", data / "valid"]
    if labels.csv is None and labels.label_re is None and not labels.pets and all(p.is_dir() for p in split):
        pairs = [_folder_labelled(part) for part in split]
        files, names = pairs[0][0] + pairs[1][0], pairs[0][1] + pairs[1][1]
        valid = list(range(len(pairs[0][0]), len(files)))
    else:
        files, names = _labelled(data, labels)
        valid = random_split(len(files), valid_pct, seed)
    return _checked(data, files, names, valid, workers)


def _labelled(data: Path, labels: LabelSource) -> tuple[list[Path], list[str]]:
    if labels.csv is not None:
        return _csv_labelled(data, labels.csv)
    if labels.label_re is not None or labels.pets:
        return _name_labelled(data, labels.label_re, labels.pets)
    return _folder_labelled(data)


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _folder_labelled(folder: Path) -> tuple[list[Path], list[str]]:
    files = [p for p in _all_files(folder) if p.parent != folder]  # DATA/<label>/...; top level is not data
    return files, [p.relative_to(folder).parts[0] for p in files]


def _name_labelled(data: Path, pattern: str | None, pets: bool) -> tuple[list[Path], list[str]]:
    files = _all_files(data)
    if pets:
        return files, ["cat" if p.name[0].isupper() else "dog" for p in files]
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise UsageError(f"--label-re {pattern!r} is not a regular expression ({error})") from None
    if regex.groups < 1:
        raise UsageError(f"--label-re {pattern!r} needs a group, e.g. '^(.*)_\\d+\\.jpg$'")
    names = [m.group(1) if (m := regex.search(p.name)) else None for p in files]
    suffixes = image_suffixes()
    if not any(name for p, name in zip(files, names) if p.suffix.lower() in suffixes):
        raise DataError(data, f"--label-re {pattern!r} matches no image file name")
    return files, names  # None: not matched, skipped


def _csv_labelled(data: Path, table: Path) -> tuple[list[Path], list[str]]:
    if not table.is_file():
        raise UsageError(f"{table}: no such CSV file")
    with table.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2 or len(rows[0]) < 2:
        raise DataError(table, "needs a header and rows of two columns: file, label")
    files, names, seen = [], [], set()
    for number, row in enumerate(rows[1:], 2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError(table, f"line {number}: needs a file and a label")
        path = data / row[0].strip()
        if not path.is_file():
            raise DataError(table, f"line {number}: {path} does not exist")
        if path in seen:
            raise DataError(table, f"line {number}: {row[0].strip()} is listed twice")
        seen.add(path)
        files.append(path)
        names.append(row[1].strip())
    return files, names


def random_split(n: int, valid_pct: float, seed: int) -> list[int]:
    order = np.random.default_rng(seed).permutation(n)
    return sorted(order[: int(round(n * valid_pct))].tolist())


def _checked(data: Path, files: list[Path], names: list[str | None], valid: list[int],
             workers: int | None) -> LabelledImages:
    suffixes = image_suffixes()
    usable = [name is not None and p.suffix.lower() in suffixes for p, name in zip(files, names)]
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        readable = list(pool.map(_decodes, [p if ok else None for p, ok in zip(files, usable)]))
    keep = [i for i, ok in enumerate(readable) if ok]
    where = {old: new for new, old in enumerate(keep)}
    images = LabelledImages([files[i] for i in keep], [names[i] for i in keep],
                            [where[i] for i in valid if i in where], skipped=usable.count(False),
                            unreadable=[p for p, ok, use in zip(files, readable, usable) if use and not ok])
    if not images.files:
        raise DataError(data, "no readable images found (expected DATA/<label>/<image> folders)")
    return check_split(data, images, "images")


def check_split(source: Path, split: LabelledSplit, noun: str) -> LabelledSplit:
    """``split`` if a classifier can be trained and validated on it: both parts non-empty, at
    least two classes, each with two or more items (as scikit-learn's stratified split asks)."""
    counts = {label: split.labels.count(label) for label in split.classes}
    if len(counts) < 2:
        raise DataError(source, f"only one class ({', '.join(counts) or 'none'}); a classifier needs two or more")
    single = [label for label, n in counts.items() if n < 2]
    if single:
        raise DataError(source, f"class {single[0]!r} has only one of the {noun}; every class needs at least 2 "
                                "(to train on and to validate with)")
    for part, rows in (("validation", split.valid), ("training", split.train)):
        if not rows:
            raise DataError(source, f"the {part} set is empty ({len(split.labels)} {noun}); change --valid-pct")
    return split


def open_rgb(path: Path) -> Image.Image:
    """An image as 8-bit RGB. Pillow's own conversion clips 16-bit greyscale at 255 (nearly all
    white); here it is scaled down instead. Palette, alpha, CMYK and 1-bit convert as usual."""
    with Image.open(path) as image:
        if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
            pixels = np.asarray(image, dtype=np.float64) / 257  # 65535 -> 255
            image = Image.fromarray(pixels.clip(0, 255).round().astype(np.uint8))
        return image.convert("RGB")


def _decodes(path: Path | None) -> bool:
    """Whether an image decodes (at a reduced scale where the format allows: cheap for JPEG)."""
    if path is None:
        return False
    try:
        with Image.open(path) as image:
            image.draft("RGB", (64, 64))
            image.load()
        return True
    except IMAGE_ERRORS:
        return False


def dataloaders(images: LabelledImages, size: int, bs: int, mean, std, augment: bool = True,
                workers: int = 0, device=None, seed: int = 42):
    """fastai DataLoaders: Resize(size) per item (random crop when training, centre crop when
    validating), then fastai's aug_transforms (training only) and normalisation per batch."""
    from fastai.vision.all import (CategoryBlock, DataBlock, ImageBlock, IndexSplitter, Normalize,
                                   Resize, aug_transforms, set_seed, tensor)

    set_seed(seed, reproducible=True)
    # Items are indices: fastai maps transforms over the elements of tuple items.
    block = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=images.classes)),
                      get_x=lambda i: open_rgb(images.files[i]), get_y=lambda i: images.labels[i],
                      splitter=IndexSplitter(images.valid), item_tfms=Resize(size),
                      batch_tfms=[*(aug_transforms() if augment else []),
                                  Normalize.from_stats(tensor(mean), tensor(std))])
    return block.dataloaders(list(range(len(images.files))), bs=bs, num_workers=workers, device=device)
