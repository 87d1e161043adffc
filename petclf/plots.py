"""Pictures a person reads faster than numbers.

Contact sheets of images are composed with Pillow (a twentieth of matplotlib's time, which
mattered for ``tsimage``); charts use matplotlib with the Agg backend, imported only when drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petclf.atomic import atomic_file

_MIN_TILE = 96  # small images are enlarged (nearest neighbour) to at least this many pixels
_GAP = 6


def save_image_grid(rows: dict[str, list[np.ndarray]], path: Path, title: str) -> None:
    """One row of uint8 RGB images (all the same size) per label, the label at the left."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=14)
    height, width = next(iter(rows.values()))[0].shape[:2]
    zoom = max(1, -(-_MIN_TILE // min(height, width)))
    tile_w, tile_h = width * zoom, height * zoom
    label_w = _GAP + max(int(font.getlength(label)) for label in rows) + _GAP
    n_cols = max(len(images) for images in rows.values())
    top = 28
    sheet = Image.new("RGB", (label_w + n_cols * (tile_w + _GAP), top + len(rows) * (tile_h + _GAP)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((_GAP, 6), title, fill="black", font=font)
    for r, (label, images) in enumerate(rows.items()):
        y = top + r * (tile_h + _GAP)
        draw.text((_GAP, y + tile_h // 2), label, fill="black", font=font, anchor="lm")
        for c, image in enumerate(images):
            tile = Image.fromarray(image).resize((tile_w, tile_h), Image.Resampling.NEAREST)
            sheet.paste(tile, (label_w + c * (tile_w + _GAP), y))
    with atomic_file(Path(path)) as tmp:
        sheet.save(tmp, format="png")
