"""batch.png: a training batch as the model sees it (fastai's ``show_batch``), augmentation
applied: for images after fastai's transforms, for series the fields their stem draws after
window slicing. Wrong labels, a crop that cuts off the subject, augmentation that turns a
glyph into another: each shows at a glance here, and not in a loss curve."""

from __future__ import annotations

from pathlib import Path

PER_CLASS, CLASSES = 8, 16


def save_batch(learn, classes: list[str], mean: list[float], std: list[float], augment: bool, path: Path) -> None:
    """Draw one training batch of ``learn`` by class; drawn after training, so it leaves the
    run's random draws as they were."""
    import torch

    from petclf.model.stem import GafStem
    from petclf.plots import a_few_of_each, save_image_grid
    from petclf.series.augment import window_slice

    xb, yb = learn.dls.train.one_batch()
    stem = learn.model[0]
    with torch.no_grad():
        if isinstance(stem, GafStem):
            xb = stem(window_slice(xb) if augment else xb)
    shift, scale = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)
    pixels = ((xb.detach().float().cpu() * scale + shift).clamp(0, 1) * 255).round().byte()
    images = pixels.permute(0, 2, 3, 1).numpy()
    picks = a_few_of_each([classes[label] for label in yb.cpu().tolist()], PER_CLASS, CLASSES)
    rows = {label: [images[i] for i in chosen] for label, chosen in picks.items()}
    title = f"a training batch as the model sees it ({len(xb)} items, {'augmented' if augment else 'no augmentation'})"
    save_image_grid(rows, path, title)
