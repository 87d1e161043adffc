"""Labelled images from a folder, and fastai DataLoaders over them.

Labels come from, in this order of precedence:
- ``csv``: a CSV file with a header; the first column is a file (relative to DATA), the second its label;
- ``label_re``: a regular expression whose first group, matched against each file name, is the label;
- ``pets``: the fast.ai book's Oxford-IIIT Pets rule, upper-case first letter = cat, else dog;
- folders: ``DATA/<label>/...``, with ``valid_pct`` of each class held out (stratified, ``seed``).
  A folder laid out by split (``DATA/train/<label>/...``, what ``tsimage --split`` writes) trains on
  ``train/``, validates on ``valid/`` (or ``val/``, ``validation/``) or on ``valid_pct`` of ``train/``,
  and never reads ``test/``: a test set is only predicted, and its folder is not a class.

Files that are not images (by extension) are skipped and counted, as are images a
``label_re`` does not match; images that cannot be decoded are reported by name and left out.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from petclf.errors import DataError, UsageError
from petclf.inputs import LABEL_RE_EXAMPLE, TSIMAGE_MANIFEST, TSIMAGE_MANIFEST_HEADER
from petclf.splits import LabelledSplit, check_split, check_valid_pct, stratified_split
from petclf.threads import map_in_threads

# What Pillow raises for a file that is not a decodable image (truncated, not an image, too big).
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

TRAIN_FOLDER = "train"
VALID_FOLDERS = ("valid", "val", "validation")
TEST_FOLDERS = ("test", "testing")


@dataclass(frozen=True)
class LabelSource:
    csv: Path | None = None
    label_re: str | None = None
    pets: bool = False


@dataclass(frozen=True)
class LabelledImages(LabelledSplit):
    files: list[Path]
    labels: list[str]
    valid: list[int]  # indices into files
    skipped: int = 0  # files that are not images, or whose name --label-re does not match
    unreadable: list[Path] = field(default_factory=list)
    left_out: list[Path] = field(default_factory=list)  # test folders, never read
    valid_given: bool = False  # the validation images are a folder of their own, not a split
    series_images: bool = False  # written by petclf tsimage (its manifest says so): fields of series

    @property
    def names(self) -> list[str]:
        return [str(path) for path in self.files]


@dataclass(frozen=True)
class SplitFolders:
    train: Path
    valid: Path | None
    test: list[Path]


def image_suffixes() -> set[str]:
    return {suffix.lower() for suffix in Image.registered_extensions()}


def find_images(data: Path, labels: LabelSource = LabelSource(), valid_pct: float = 0.2,
                seed: int = 42, workers: int | None = None) -> LabelledImages:
    data = Path(data)
    if not data.is_dir():
        raise UsageError(f"{data}: no such folder")
    check_valid_pct(valid_pct)
    folders = split_folders(data) if labels == LabelSource() else None
    in_valid = None
    if folders is not None and folders.valid is not None:
        (files, names), (valid_files, valid_names) = map(_folder_labelled, (folders.train, folders.valid))
        in_valid = [False] * len(files) + [True] * len(valid_files)
        files, names = files + valid_files, names + valid_names
    else:
        files, names = _folder_labelled(folders.train) if folders else _labelled(data, labels)
    images = _readable(data, files, names, in_valid, workers)
    if in_valid is None:
        images = replace(images, valid=stratified_split(images.labels, valid_pct, seed))
    images = replace(images, left_out=folders.test if folders else [], valid_given=in_valid is not None,
                     series_images=written_by_tsimage(folders.train if folders else data))
    return check_split(data, images, "images")


def written_by_tsimage(folder: Path) -> bool:
    """Whether ``folder``'s class folders are images ``petclf tsimage`` drew: its manifest is there."""
    try:
        with (folder / TSIMAGE_MANIFEST).open(newline="") as handle:
            return handle.readline().strip() == TSIMAGE_MANIFEST_HEADER
    except (OSError, UnicodeDecodeError):
        return False


def labelled_images(data: Path, labels: LabelSource = LabelSource(), workers: int | None = None) -> LabelledImages:
    """Every labelled image that decodes in ``data``, none held out: a set to evaluate a model on.
    A folder laid out by split is refused, since its folder names are splits, not labels."""
    data = Path(data)
    if not data.is_dir():
        raise UsageError(f"{data}: no such folder")
    splits = {p.name for p in data.iterdir() if p.is_dir() and p.name.lower() in (TRAIN_FOLDER, *VALID_FOLDERS,
                                                                                   *TEST_FOLDERS)}
    if labels == LabelSource() and splits:
        held_out = [n for n in sorted(splits) if n.lower() in (*TEST_FOLDERS, *VALID_FOLDERS)]
        advice = (f"give the folder of the split to evaluate on, e.g. {data / held_out[0]}" if held_out
                  else "give a folder of labelled images the model did not train on")
        raise UsageError(f"{data}: laid out by split ({', '.join(sorted(splits))}); {advice}")
    return _readable(data, *_labelled(data, labels), None, workers)


def split_folders(data: Path) -> SplitFolders | None:
    """The folders of a dataset laid out by split, or None for class folders. Any top-level
    folder named like a split (train, valid, val, validation, test, testing) makes it one: then
    ``train/`` must be there, and a test folder is never mistaken for a class."""
    named = {p.name.lower(): p for p in data.iterdir() if p.is_dir()}
    splits = [name for name in named if name in (TRAIN_FOLDER, *VALID_FOLDERS, *TEST_FOLDERS)]
    if not splits:
        return None
    if TRAIN_FOLDER not in named:
        raise DataError(data, f"has {', '.join(n + '/' for n in sorted(splits))} but no train/ folder: "
                              "laid out by split, it needs train/<label>/...")
    valid = next((named[name] for name in VALID_FOLDERS if name in named), None)
    return SplitFolders(named[TRAIN_FOLDER], valid, [named[name] for name in TEST_FOLDERS if name in named])


def _labelled(data: Path, labels: LabelSource) -> tuple[list[Path], list[str]]:
    if labels.csv is not None:
        return _csv_labelled(data, labels.csv)
    if labels.label_re is not None or labels.pets:
        return _name_labelled(data, labels.label_re, labels.pets)
    return _folder_labelled(data)


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not hidden(p, folder))


def hidden(path: Path, root: Path) -> bool:
    """Whether ``path`` is hidden below ``root``: a dot-file, or inside a dot-folder
    (.ipynb_checkpoints, .git) or macOS's __MACOSX; never an item or a class."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.relative_to(root).parts)


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
        raise UsageError(f"--label-re '{pattern}' is not a regular expression ({error})") from None
    if regex.groups < 1:
        raise UsageError(f"--label-re '{pattern}' needs a group, e.g. {LABEL_RE_EXAMPLE}")
    names = [m.group(1) if (m := regex.search(p.name)) else None for p in files]
    suffixes = image_suffixes()
    if not any(name for p, name in zip(files, names, strict=True) if p.suffix.lower() in suffixes):
        raise DataError(data, f"--label-re '{pattern}' matches no image file name")
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


def _readable(data: Path, files: list[Path], names: list[str | None], in_valid: list[bool] | None,
              workers: int | None) -> LabelledImages:
    """The labelled images that decode; ``valid`` holds those ``in_valid`` marks (none if None)."""
    suffixes = image_suffixes()
    usable = [name is not None and p.suffix.lower() in suffixes for p, name in zip(files, names, strict=True)]
    readable = map_in_threads(_decodes, [p if ok else None for p, ok in zip(files, usable, strict=True)], workers)
    keep = [i for i, ok in enumerate(readable) if ok]
    if not keep:
        raise DataError(data, "no readable images found (expected DATA/<label>/<image> folders)")
    return LabelledImages([files[i] for i in keep], [names[i] for i in keep],
                          [new for new, old in enumerate(keep) if in_valid and in_valid[old]],
                          skipped=usable.count(False),
                          unreadable=[p for p, ok, use in zip(files, readable, usable, strict=True) if use and not ok])


def median_side(files: list[Path], sample: int = 64) -> int:
    """The median of the shorter sides of (an evenly spread sample of) ``files``, read from their
    headers."""
    step = max(1, len(files) // sample)
    sides = []
    for path in files[::step]:
        with Image.open(path) as image:
            sides.append(min(image.size))
    return int(np.median(sides))


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
    from fastai.vision.all import (
        CategoryBlock,
        DataBlock,
        ImageBlock,
        IndexSplitter,
        Normalize,
        Resize,
        aug_transforms,
        set_seed,
        tensor,
    )

    set_seed(seed, reproducible=True)
    # Items are indices: fastai maps transforms over the elements of tuple items.
    block = DataBlock(blocks=(ImageBlock, CategoryBlock(vocab=images.classes)),
                      get_x=lambda i: open_rgb(images.files[i]), get_y=lambda i: images.labels[i],
                      splitter=IndexSplitter(images.valid), item_tfms=Resize(size),
                      batch_tfms=[*(aug_transforms() if augment else []),
                                  Normalize.from_stats(tensor(mean), tensor(std))])
    return block.dataloaders(list(range(len(images.files))), bs=bs, num_workers=workers, device=device)
