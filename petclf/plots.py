"""Pictures a person reads faster than numbers.

Contact sheets of images are composed with Pillow (a twentieth of matplotlib's time, which
mattered for ``tsimage``); charts use matplotlib with the Agg backend, imported only when drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from petclf.atomic import atomic_file
from petclf.splits import natural_order

_MIN_TILE = 96  # small images are enlarged (nearest neighbour) to at least this many pixels
_GAP = 6


def a_few_of_each(labels: list[str], per_class: int, most_classes: int) -> dict[str, list[int]]:
    """For a contact sheet: the indices of the first ``per_class`` items of each label, for the
    first ``most_classes`` labels met, the labels in natural order."""
    picks: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        if label not in picks and len(picks) >= most_classes:
            continue
        chosen = picks.setdefault(label, [])
        if len(chosen) < per_class:
            chosen.append(index)
    return {label: picks[label] for label in natural_order(picks)}


def save_image_grid(rows: dict[str, list[np.ndarray]], path: Path, title: str,
                    colorbar: np.ndarray | None = None) -> None:
    """One row of uint8 RGB images (all the same size) per label, the label at the left; with
    ``colorbar`` (a 256 x 3 colormap of field values -1 to +1), that scale under the title."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=14)
    height, width = next(iter(rows.values()))[0].shape[:2]
    zoom = max(1, -(-_MIN_TILE // min(height, width)))
    tile_w, tile_h = width * zoom, height * zoom
    label_w = _GAP + max(int(font.getlength(label)) for label in rows) + _GAP
    n_cols = max(len(images) for images in rows.values())
    top = 28 if colorbar is None else 56
    width = max(label_w + n_cols * (tile_w + _GAP), int(font.getlength(title)) + 2 * _GAP, 256 + 80)
    sheet = Image.new("RGB", (width, top + len(rows) * (tile_h + _GAP)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((_GAP, 6), title, fill="black", font=font)
    if colorbar is not None:
        _draw_colorbar(sheet, draw, font, colorbar, (label_w, 30))
    for r, (label, images) in enumerate(rows.items()):
        y = top + r * (tile_h + _GAP)
        draw.text((_GAP, y + tile_h // 2), label, fill="black", font=font, anchor="lm")
        for c, image in enumerate(images):
            tile = Image.fromarray(image).resize((tile_w, tile_h), Image.Resampling.NEAREST)
            sheet.paste(tile, (label_w + c * (tile_w + _GAP), y))
    with atomic_file(Path(path)) as tmp:
        sheet.save(tmp, format="png")


def _draw_colorbar(sheet, draw, font, lut: np.ndarray, at: tuple[int, int]) -> None:
    """The colormap as a 256 x 12 px strip from -1 (left) to +1, those ends labelled."""
    from PIL import Image

    x, y = at
    sheet.paste(Image.fromarray(np.repeat(lut[None].astype(np.uint8), 12, axis=0)), (x, y))
    draw.text((x - 4, y + 6), "-1", fill="black", font=font, anchor="rm")
    draw.text((x + 260, y + 6), "+1", fill="black", font=font, anchor="lm")


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


def save_drawn(ax, path: Path) -> None:
    """A plot another library drew on matplotlib (Optuna's), written as petclf writes its own."""
    _pyplot()  # the Agg backend, before anything else is drawn
    _save(ax.figure, path)


def save_lr_plot(lrs: list[float], losses: list[float], suggestions: dict[str, float],
                 points: dict[str, tuple[float, float]], used: tuple[float, str], path: Path) -> None:
    """fastai's lr_find plot: loss against a log learning rate, the suggestions marked, and a
    line at the rate train uses (``used``: the rate and where it comes from), which is not
    always a suggestion. The legend gives each suggestion as the table does; fastai's
    ``minimum`` suggests a tenth of the rate its marker sits at (the lowest loss), and says so."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(lrs, losses, color="#1f77b4")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="loss (smoothed)", title="learning-rate finder")
    for (name, (lr, loss)), marker in zip(points.items(), "o^sD", strict=False):
        at = "" if math.isclose(lr, suggestions[name]) else f", marked at {lr:.2e}"
        ax.plot(lr, loss, marker, markersize=8, label=f"{name}: {suggestions[name]:.2e}{at}")
    ax.axvline(used[0], color="black", linestyle="--", label=f"train uses {used[0]:.2e} ({used[1]})")
    ax.legend()
    _save(fig, path)


def save_history(histories: list[list[dict]], best_epochs: list[int], path: Path) -> None:
    """Training curves, one run's or each member's: losses on the left, validation accuracy on
    the right, the epoch that was kept marked, the frozen epochs shaded."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 4))
    many = len(histories) > 1
    for k, (rows, best) in enumerate(zip(histories, best_epochs, strict=True)):
        epochs = [row["epoch"] for row in rows]
        loss_ax.plot(epochs, [row["train_loss"] for row in rows], color=f"C{k}", linestyle=":",
                     label="training" if k == 0 else None)
        loss_ax.plot(epochs, [row["valid_loss"] for row in rows], color=f"C{k}",
                     label=f"member {k + 1}" if many else "validation")
        accuracy_ax.plot(epochs, [row["accuracy"] for row in rows], color=f"C{k}")
        kept = next(row for row in rows if row["epoch"] == best)
        loss_ax.plot(best, kept["valid_loss"], "o", color=f"C{k}")
        accuracy_ax.plot(best, kept["accuracy"], "o", color=f"C{k}", label="kept epoch" if k == 0 else None)
    frozen = [row["epoch"] for row in histories[0] if row["phase"] == "frozen"]
    for ax in (loss_ax, accuracy_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no tick at -0.5
        if frozen:
            ax.axvspan(min(frozen) - 0.5, max(frozen) + 0.5, color="0.9", label="frozen body" if ax is loss_ax else None)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    loss_ax.set(ylabel="loss", title="loss (dotted: training)" if many else "loss")
    accuracy_ax.set(ylabel="accuracy", title="validation accuracy" + (" of each member on its fold" if many else ""))
    _save(fig, path)


def save_reliability(before: list[dict], after: list[dict], quality: dict[str, dict], path: Path,
                     items: str = "held-out items") -> None:
    """A reliability diagram (``calibration.reliability``'s bins): accuracy against confidence,
    before and after calibration, the diagonal being a model whose 0.9 is right 9 times in 10;
    each point's count beside it, and a bar of the counts below."""
    plt = _pyplot()
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True, height_ratios=(3, 1),
                                     layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="perfectly calibrated")
    for bins, name, colour in ((before, "before", "C3"), (after, "after", "C0")):
        ece = quality[name]["ece"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color=colour,
                label=f"{name} calibration (ECE {ece:.3f})")
    for b in after:
        ax.annotate(str(b["count"]), (b["confidence"], b["accuracy"]), textcoords="offset points", xytext=(4, -10),
                    fontsize=7, color="C0")
    ax.set(ylabel="accuracy", title=f"reliability: {items}", xlim=(0, 1.02), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="upper left")
    width = after[0]["high"] - after[0]["low"] if after else 1
    counts.bar([b["low"] for b in after], [b["count"] for b in after], width=width, align="edge", color="C0")
    counts.set(xlabel="confidence (the top probability)", ylabel="items")
    _save(fig, path)


def save_confusion_matrix(matrix: np.ndarray, classes: list[str], path: Path, normalised: bool = False) -> None:
    """Counts of true (rows) against predicted (columns) labels; with ``normalised``, beside them
    each row divided by its total (the recall of each class on the diagonal), which shows a
    small class's errors that counts hide."""
    plt = _pyplot()
    n = len(classes)
    side = min(3 + 0.45 * n, 16)
    fig, axes = plt.subplots(1, 2 if normalised else 1, figsize=(side * (2 if normalised else 1), side),
                             sharey=True, layout="constrained")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    _draw_matrix(np.atleast_1d(axes)[0], matrix, classes, f"confusion matrix, accuracy {accuracy:.3f}", "{:d}")
    if normalised:  # the rows are the same classes: named once, on the left
        rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        _draw_matrix(axes[1], rows, classes, "each row as a share of its class", "{:.2f}", row_names=False)
    _save(fig, path)


def _draw_matrix(ax, matrix: np.ndarray, classes: list[str], title: str, number: str, row_names: bool = True) -> None:
    n = len(classes)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), classes)
    ax.tick_params(axis="y", labelleft=row_names)
    ax.set(xlabel="predicted", ylabel="actual" if row_names else None, title=title)
    if n <= 30:
        threshold = matrix.max() / 2
        for (row, col), value in np.ndenumerate(matrix):
            ax.text(col, row, number.format(value), ha="center", va="center",
                    color="white" if value > threshold else "black", fontsize=9)


def save_top_losses(panels: list[dict], path: Path) -> None:
    """The items a model got most wrong, each an ``image`` (uint8 RGB) under its ``title``, and
    for series the ``curve`` (channels x length) below it."""
    plt = _pyplot()
    cols = min(4, max(len(panels), 1))
    grid = -(-len(panels) // cols)
    curves = any("curve" in panel for panel in panels)
    per_item = 2 if curves else 1
    fig, axes = plt.subplots(grid * per_item, cols, figsize=(3.2 * cols, 3.6 * grid * per_item), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for k, panel in enumerate(panels):
        row, col = divmod(k, cols)
        ax = axes[row * per_item, col]
        ax.imshow(panel["image"])
        ax.set_title(panel["title"], fontsize=8)
        if curves:
            curve_ax = axes[row * per_item + 1, col]
            curve_ax.axis("on")
            curve_ax.plot(np.asarray(panel["curve"]).T, linewidth=1)
            curve_ax.tick_params(labelsize=7)
    fig.suptitle("top losses: what the model got most wrong")
    _save(fig, path)


def save_cam(image: np.ndarray, cam: np.ndarray, title: str, path: Path,
             series: np.ndarray | None = None, attention: np.ndarray | None = None) -> None:
    """A Grad-CAM heat-map over the image the model saw, with its colour bar; for a series, beside
    it the curve of each channel coloured by the attention folded onto its time axis. The map is
    opaque where it is high and clear where it is low, so the picture shows through; a series'
    field (itself in colour) is drawn in grey beneath it, where the heat's colours stand out."""
    plt = _pyplot()
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    heat_map, scale = colormaps["inferno" if series is not None else "jet"], Normalize(0, 1)
    fig, axes = plt.subplots(1, 2 if series is not None else 1, figsize=(11 if series is not None else 5.5, 4.5),
                             squeeze=False, layout="constrained")
    ax = axes[0, 0]
    ax.imshow(image.mean(-1) if series is not None else image, cmap="gray" if series is not None else None)
    overlay = heat_map(cam)
    overlay[..., 3] = 0.75 * cam
    ax.imshow(overlay, extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5, -0.5))
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.colorbar(ScalarMappable(scale, heat_map), ax=ax, fraction=0.046, pad=0.04, label="Grad-CAM, of its maximum")
    if series is not None:
        curve_ax = axes[0, 1]
        time = np.arange(series.shape[-1])
        for values, weight in zip(series, attention, strict=True):
            curve_ax.plot(time, values, color="0.75", linewidth=1)
            curve_ax.scatter(time, values, c=weight, cmap=heat_map, norm=scale, s=8)
        curve_ax.set(xlabel="time", ylabel="value", title="the map folded onto the time axis")
        fig.colorbar(ScalarMappable(scale, heat_map), ax=curve_ax, fraction=0.046, pad=0.04, label="attention")
    _save(fig, path)
