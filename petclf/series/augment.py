"""Window slicing (Le Guennec et al. 2016), the augmentation series train with, and its fixed
counterpart for test-time augmentation.

GAF images are invariant to a series' offset and amplitude (each is scaled to [-1, 1]), and
flips or rotations of the image break its time axis and diagonal, so photographic augmentations
do not carry over; shifting and stretching the time axis does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

MIN_SCALE = 0.8  # training's windows: 80-100 % of the series
TTA_SCALE, TTA_WINDOWS = 0.9, 3  # test time: three windows of 90 %, within training's range


def window_slice(x: torch.Tensor, min_scale: float = MIN_SCALE,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """A random window of each series ``(n, C, L)``, ``scale`` in [min_scale, 1] of its length,
    stretched back to the full length by linear interpolation, on the series' device."""
    import torch

    n, _, length = x.shape
    scale = torch.empty(n, 1, device=x.device).uniform_(min_scale, 1, generator=generator)
    start = torch.rand(n, 1, device=x.device, generator=generator) * (1 - scale)
    position = (start + scale * torch.linspace(0, 1, length, device=x.device)) * (length - 1)
    left = position.floor().long().clamp_(max=length - 2)
    weight = (position - left).unsqueeze(1).to(x.dtype)
    index = left.unsqueeze(1).expand(-1, x.shape[1], -1)
    return torch.lerp(x.gather(2, index), x.gather(2, index + 1), weight)


def window_views(x: np.ndarray, scale: float = TTA_SCALE, n: int = TTA_WINDOWS) -> list[np.ndarray]:
    """``n`` windows of ``scale`` of each series, from its start to its end, each stretched back to
    the full length by linear interpolation: the window slicing training augments with
    (``window_slice``), at fixed places so that predictions repeat."""
    length = x.shape[-1]
    views = []
    for start in np.linspace(0, 1 - scale, n):
        position = (start + scale * np.linspace(0, 1, length)) * (length - 1)
        left = np.minimum(np.floor(position).astype(np.int64), length - 2)
        weight = (position - left).astype(x.dtype)
        views.append(x[..., left] * (1 - weight) + x[..., left + 1] * weight)
    return views
