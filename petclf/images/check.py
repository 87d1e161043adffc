"""The data check for image folders: sizes and modes, identical files (same bytes), and images
that look alike by their perceptual hash (imagehash's pHash: the same photo re-encoded,
resized or lightly edited), and a contact sheet of a few images of each class.

Images are opened at a reduced scale where the format allows (JPEG decodes at 1/8 for free),
which is all a 32 x 32 perceptual hash needs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from petclf.datacheck import Report, class_counts, findings, groups_of, near_groups
from petclf.images.data import IMAGE_ERRORS, LabelledImages, open_rgb
from petclf.threads import map_in_threads

# pHash bits (of 64) two images may differ in and still be "the same picture": copies of
# scikit-image's photographs re-encoded as JPEG (quality 40-90) and resized (30-100 %) differ
# by 0-2 bits, different photographs by 30 or more (tests/test_check.py).
NEAR = 4
# Below this side a 32 x 32 DCT hash sees upsampled blocks: thumbnails are compared exactly only.
HASHABLE_SIDE = 32
SHEET_PER_CLASS, SHEET_TILE, SHEET_CLASSES = 8, 96, 20


@dataclass(frozen=True)
class _Seen:
    size: tuple[int, int]
    mode: str
    digest: str
    phash: np.ndarray | None  # 8 bytes, None for a thumbnail


def check_images(images: LabelledImages, source: str, workers: int | None = None) -> Report:
    """The check of ``images`` as training would split them."""
    seen = map_in_threads(_look, images.files, workers)
    hashed = [i for i, s in enumerate(seen) if s.phash is not None]
    near = near_groups(np.stack([seen[i].phash for i in hashed]), NEAR) if hashed else []
    names = images.names
    found = findings(names, images.labels, images.valid, groups_of([s.digest for s in seen]),
                     [[hashed[i] for i in group] for group in near])
    return Report(source, "images", class_counts(images.labels, images.valid), _shapes(seen),
                  [str(p) for p in images.unreadable], images.skipped, **found)


def _look(path: Path) -> _Seen:
    import imagehash

    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    with Image.open(path) as image:
        size, mode = image.size, image.mode
        image.draft("RGB", (2 * HASHABLE_SIDE, 2 * HASHABLE_SIDE))
        phash = (np.packbits(imagehash.phash(image.convert("L")).hash.flatten())
                 if min(size) >= HASHABLE_SIDE else None)
    return _Seen(size, mode, digest, phash)


def _shapes(seen: list[_Seen]) -> dict:
    widths, heights = zip(*(s.size for s in seen), strict=True)
    modes = Counter(s.mode for s in seen)
    return {"width": {"min": min(widths), "median": int(np.median(widths)), "max": max(widths)},
            "height": {"min": min(heights), "median": int(np.median(heights)), "max": max(heights)},
            "modes": dict(modes.most_common())}


def save_sheet(images: LabelledImages, path: Path, title: str) -> None:
    """A few images of each class (the first classes when there are many), square-cropped."""
    from petclf.plots import a_few_of_each, save_image_grid

    rows = {label: [tile for tile in map(_tile, [images.files[i] for i in chosen]) if tile is not None]
            for label, chosen in a_few_of_each(images.labels, SHEET_PER_CLASS, SHEET_CLASSES).items()}
    save_image_grid(rows, path, title)


def _tile(path: Path) -> np.ndarray | None:
    try:
        return np.asarray(ImageOps.fit(open_rgb(path), (SHEET_TILE, SHEET_TILE)))
    except IMAGE_ERRORS:
        return None
