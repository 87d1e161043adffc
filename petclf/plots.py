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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_file(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    fig.clf()
    _pyplot().close(fig)


def save_lr_plot(lrs: list[float], losses: list[float], points: dict[str, tuple[float, float]],
                 path: Path) -> None:
    """fastai's lr_find plot: loss against a log learning rate, the suggestions marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(lrs, losses, color="#1f77b4")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="loss (smoothed)", title="learning-rate finder")
    for (name, (lr, loss)), marker in zip(points.items(), "o^sD"):
        ax.plot(lr, loss, marker, markersize=8, label=f"{name}: {lr:.2e}")
    ax.legend()
    _save(fig, path)


def save_confusion_matrix(matrix: np.ndarray, classes: list[str], path: Path) -> None:
    """Counts of true (rows) against predicted (columns) labels."""
    plt = _pyplot()
    n = len(classes)
    side = min(3 + 0.45 * n, 16)
    fig, ax = plt.subplots(figsize=(side, side))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), classes)
    ax.set(xlabel="predicted", ylabel="actual", title=f"confusion matrix, accuracy {np.trace(matrix) / max(matrix.sum(), 1):.3f}")
    if n <= 30:
        threshold = matrix.max() / 2
        for (row, col), count in np.ndenumerate(matrix):
            ax.text(col, row, str(count), ha="center", va="center",
                    color="white" if count > threshold else "black", fontsize=9)
    _save(fig, path)
