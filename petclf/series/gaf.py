"""Gramian Angular Fields on torch tensors, so the same code runs on the CPU and the GPU.

The maths follows pyts ``GramianAngularField`` (Wang & Oates 2015) and matches it to
within 1e-5 in float32: piecewise aggregate approximation (PAA) to ``size`` points, min-max
scaling of each series to [-1, 1], ``phi = arccos(x)``, then

    GADF[i, j] = sin(phi_i - phi_j) = sin_i * cos_j - cos_i * sin_j
    GASF[i, j] = cos(phi_i + phi_j) = cos_i * cos_j - sin_i * sin_j

Each field is a batched matrix product with an inner dimension of 2, which writes the
output once and touches no trigonometric function; that is what makes it fast.
Where pyts stops (``size`` larger than the series), we interpolate linearly up.
A constant series has no angle to speak of: its field is all zeros, never NaN.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from petclf.errors import UsageError

if TYPE_CHECKING:
    import torch

METHODS = ("gadf", "gasf")
SCALINGS = ("series", "dataset")
GRAY = "gray"
DEFAULT_COLORMAP = "viridis"
_BMM_CHUNK_BYTES = 32 * 2**20  # output written per matmul: small enough to stay cache-friendly
_RESAMPLE_CHUNK_BYTES = 64 * 2**20  # float64 working memory of the resampling, per chunk of series
# cos and sin are scaled by this before the float32 products: the products' rounding could take
# a field value to 1 + 1e-7 (found by hypothesis), and 4.8e-7 less keeps every value in [-1, 1]
# without a clamping pass over the field (which cost a quarter of the GADF's throughput).
_UNDER_ONE = 1 - 2**-21


def check_method(method: str) -> str:
    if method not in METHODS:
        raise UsageError(f"--method must be one of {', '.join(METHODS)} (got {method!r})")
    return method


def check_scaling(scaling: str) -> str:
    if scaling not in SCALINGS:
        raise UsageError(f"--scaling must be one of {', '.join(SCALINGS)} (got {scaling!r})")
    return scaling


def check_size(size: int) -> int:
    if size < 2:
        raise UsageError(f"--size must be at least 2 (got {size})")
    return size


def resample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bring the last axis of ``x`` (shape ``(..., L)``) to ``size`` points.

    Down: PAA with pyts's non-overlapping windows ``linspace(0, L, size + 1)``, as window
    means taken from a float64 cumulative sum (exact enough for long series, O(L) memory).
    Up: linear interpolation with both ends kept. Same length: ``x`` itself.
    """
    import torch

    length = x.shape[-1]
    if size == length:
        return x
    if size > length:
        flat = x.reshape(-1, 1, length)
        up = torch.nn.functional.interpolate(flat, size=size, mode="linear", align_corners=True)
        return up.reshape(*x.shape[:-1], size)
    bounds = torch.linspace(0, length, size + 1, dtype=torch.float64).to(torch.int64).to(x.device)
    csum = torch.nn.functional.pad(x.to(torch.float64).cumsum(-1), (1, 0))
    sums = csum[..., bounds[1:]] - csum[..., bounds[:-1]]
    return (sums / (bounds[1:] - bounds[:-1])).to(x.dtype)


def polar(x: torch.Tensor, bounds: tuple[torch.Tensor, torch.Tensor] | None = None
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine and sine of the angles of each series (last axis), scaled to [-1, 1]: per series
    from its own min and max, or from ``bounds`` (low and high per channel, shape ``(C, 1)``,
    e.g. a training set's), clipping values beyond them.

    Computed in the input's dtype; ``gaf`` passes float64 because sqrt(1 - x^2) magnifies
    float32 rounding near x = +-1 (7e-5 on GunPoint) and these vectors are cheap next to the field.
    A constant series (or channel) gets cos = sin = 0, which makes its field exactly zero.
    """
    if bounds is None:
        low = x.amin(-1, keepdim=True)
        span = x.amax(-1, keepdim=True) - low
    else:
        low, span = bounds[0].to(x), (bounds[1] - bounds[0]).to(x)
    flat = span == 0
    cos = ((x - low) / span.masked_fill(flat, 1.0)).mul_(2).sub_(1).clamp_(-1, 1)
    sin = ((1 - cos) * (1 + cos)).clamp_(min=0).sqrt_()
    return cos.masked_fill_(flat, 0.0), sin.masked_fill_(flat, 0.0)


def gaf(x: torch.Tensor, size: int | None = None, method: str = "gadf",
        bounds: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Gramian angular field of each series.

    x : tensor, shape = (..., L), any float dtype; the leading axes are kept
        (e.g. ``(n_series, n_channels, L)`` gives one field per channel).
    bounds : fixed scaling per channel (see ``polar``); None scales each series on its own.
    Returns float32, shape = (..., size, size), values in [-1, 1]. ``size`` defaults to L.
    """
    import torch

    check_method(method)
    size = check_size(x.shape[-1] if size is None else size)
    cos, sin = angles(x, size, bounds)
    lead = cos.shape[:-1]
    cos, sin = cos.reshape(-1, size), sin.reshape(-1, size)
    if method == "gadf":
        left, right = torch.stack([sin, -cos], -1), torch.stack([cos, sin], 1)
    else:
        left, right = torch.stack([cos, -sin], -1), torch.stack([cos, sin], 1)
    if torch.compiler.is_exporting():
        return torch.bmm(left, right).reshape(*lead, size, size)
    out = torch.empty(cos.shape[0], size, size, dtype=torch.float32, device=x.device)
    step = max(1, _BMM_CHUNK_BYTES // (size * size * 4))
    for start in range(0, out.shape[0], step):
        stop = start + step
        torch.bmm(left[start:stop], right[start:stop], out=out[start:stop])
    return out.reshape(*lead, size, size)


def angles(x: torch.Tensor, size: int, bounds=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``polar`` of the resampled series, float32, a few series (first axis) at a time: in
    float64 they take about 24 bytes per input value, so long series are done in chunks and
    memory stays near the input's size plus ``_RESAMPLE_CHUNK_BYTES``."""
    import torch

    step = max(1, _RESAMPLE_CHUNK_BYTES // (24 * x[0].numel() or 1)) if x.ndim > 1 else 1
    cos, sin = [], []
    for part in in_chunks(x, step) if x.ndim > 1 else [x]:
        part = part.to(torch.float64)
        scale = _power_of_two_scale(part)
        c, s = polar(resample(part / scale, size), bounds and (bounds[0] / scale, bounds[1] / scale))
        cos.append(c.float().mul_(_UNDER_ONE))
        sin.append(s.float().mul_(_UNDER_ONE))
    return torch.cat(cos), torch.cat(sin)


def in_chunks(x: torch.Tensor, step: int) -> list[torch.Tensor]:
    """``x`` in pieces of ``step`` along its first axis, to bound the working memory; whole while
    a model is exported to ONNX, whose graph has no loop over a batch of unknown size."""
    import torch

    return [x] if torch.compiler.is_exporting() else list(x.split(step))


def _power_of_two_scale(x: torch.Tensor) -> torch.Tensor:
    """Per series, the power of two that brings its largest magnitude into [0.5, 1). Dividing
    by it is exact, so the field is the same, but values near 1e308 no longer overflow in the
    window sums of the resampling (found by hypothesis: NaN fields). ``frexp``'s exponent, from
    ``log2``, which ONNX has: a power of two one off near a boundary divides just as exactly."""
    import torch

    largest = x.abs().amax(-1, keepdim=True).clamp(min=torch.finfo(x.dtype).tiny)
    return torch.exp2(torch.floor(torch.log2(largest)) + 1)


def colormap_lut(name: str) -> torch.Tensor:
    """A 256 x 3 uint8 lookup table for a matplotlib colormap name, or plain grey for "gray"."""
    import torch

    if name == GRAY:
        return torch.arange(256, dtype=torch.uint8).unsqueeze(1).expand(256, 3).contiguous()
    import matplotlib
    import numpy as np

    if name not in matplotlib.colormaps:
        close = difflib.get_close_matches(name, list(matplotlib.colormaps), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"--colormap: unknown colormap {name!r}{hint}")
    rgba = matplotlib.colormaps[name](np.linspace(0, 1, 256))
    return torch.from_numpy((rgba[:, :3] * 255).round()).to(torch.uint8)


def mosaic_shape(n_channels: int) -> tuple[int, int]:
    """Rows and columns of the tile grid that holds one field per channel."""
    cols = 1
    while cols * cols < n_channels:
        cols += 1
    return -(-n_channels // cols), cols


def to_levels(fields: torch.Tensor) -> torch.Tensor:
    """Field values in [-1, 1] as 256 levels, int64 (the index of a colormap's entry)."""
    import torch

    return ((fields + 1) * 127.5).round_().clamp_(0, 255).to(torch.int64)


def to_rgb(fields: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """Colour fields ``(n, C, N, N)`` in [-1, 1] into uint8 RGB images ``(n, H, W, 3)`` (``mosaic``)."""
    return mosaic(lut.to(fields.device)[to_levels(fields)])


def mosaic(rgb: torch.Tensor) -> torch.Tensor:
    """Tiles ``(n, C, N, N, 3)`` as uint8 images ``(n, H, W, 3)``.

    One channel gives one N x N image. Several channels are tiled row by row into a
    near-square grid of N x N tiles (channel 0 top left; unused tiles black), so a
    photograph-trained backbone sees every channel in the same colours.
    """
    import torch

    rgb = rgb.to(torch.uint8)
    n, channels, size, _, _ = rgb.shape
    if channels == 1:
        return rgb[:, 0]
    rows, cols = mosaic_shape(channels)
    if rows * cols > channels:
        pad = rgb.new_zeros(n, rows * cols - channels, size, size, 3)
        rgb = torch.cat([rgb, pad], 1)
    grid = rgb.reshape(n, rows, cols, size, size, 3).permute(0, 1, 3, 2, 4, 5)
    return grid.reshape(n, rows * size, cols * size, 3)
