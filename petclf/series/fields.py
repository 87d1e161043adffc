"""How a series becomes an image: one field in a colormap, or three fields as the three colour
channels of one image.

Fields, each an N x N picture of a series brought to N points, with values in [-1, 1]:
- ``gadf`` / ``gasf``: Gramian angular difference / summation fields (gaf.py);
- ``mtf``: the Markov transition field (Wang & Oates 2015; pyts ``MarkovTransitionField``):
  values binned by the series' own quantiles (``MTF_BINS``), the bin-to-bin transition
  probabilities of consecutive values W, and pixel (i, j) the probability W[bin(x_i), bin(x_j)],
  averaged over the windows that bring the series to N points; drawn as 2p - 1;
- ``rp``: the unthresholded recurrence plot, |x_i - x_j| of the series scaled to [-1, 1] (as
  for the GAF), drawn as that distance minus 1;
- ``seg``: the series itself, scaled to [-1, 1] as for the GAF, cut into k segments of k points
  (k = ceil(sqrt(L)), the last row filled up with the last value) stacked as rows, and that k x k grid
  resized to N x N (TiViT, Roschmann et al. 2025). Its resolution grows with the series, where a
  field of N points averages a long series down to N: a 2,000-point series keeps every value in
  its 45 x 45 grid, where a 128-point GAF keeps window means of 16;
- ``mat``: all the channels of a series as one picture, channels as rows and time as columns (the
  series min-max scaled as a whole, so the channels keep their relative size), resized to N x N.
  A spectrogram-like image, where the other fields draw each channel apart (a mosaic of tiles);
  so beside other views it takes series of one channel only.

A method is one field (``gadf``, coloured with a colormap), three joined with ``+``
(``gasf+gadf+mtf``: red, green, blue), the stack fast.ai forum experiments found best on
OliveOil, or several fields joined with ``,`` (``seg,rp,gadf``): views, each coloured, drawn side
by side. A ridge member's body pools each view apart (model/layers.py ``LevelPool``): three views
of a series give it three times the features of one. Everything is torch, on the series' device, so the model's stem, ``tsimage`` and
the preview all draw the same pixels with this one function, as one ``Imaging`` describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from petclf.errors import UsageError
from petclf.series import gaf

if TYPE_CHECKING:
    import torch

FIELDS = ("gadf", "gasf", "mtf", "rp", "seg", "mat")
MTF_BINS = 5  # pyts's default
_CHUNK_BYTES = 64 * 2**20  # float64 working memory per chunk of series (as gaf's)


@dataclass(frozen=True)
class Imaging:
    """How a series becomes an image: the one description ``tsimage`` draws with, a model's
    stem draws with, and the model file stores (model/file.py)."""

    method: str = "gadf"  # a field ("gadf", "gasf", "mtf", "rp", "seg"), three joined by "+", or views joined by ","
    size: int = 128  # side of each channel's field
    colormap: str = gaf.DEFAULT_COLORMAP  # of one field; a stack's three fields are red, green, blue
    scaling: str = "series"  # each series min-max scaled on its own; "dataset": by low and high
    low: list[float] | None = None  # per channel: the training set's minimum ("dataset" scaling)
    high: list[float] | None = None

    def check(self) -> Imaging:
        """Itself, once its method, size and scaling are known to be drawable."""
        check_method(self.method)
        gaf.check_size(self.size)
        gaf.check_scaling(self.scaling)
        return self

    def bounds(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``gaf``'s bounds argument: tensors (C, 1), or None for per-series scaling."""
        if self.scaling != "dataset":
            return None
        import torch

        return torch.tensor(self.low).view(-1, 1), torch.tensor(self.high).view(-1, 1)

    def draw(self, x: torch.Tensor, lut: torch.Tensor | None = None) -> torch.Tensor:
        """Series ``(n, C, L)`` as uint8 RGB images ``(n, H, W, 3)`` (``lut``: the colormap's, if made)."""
        lut = gaf.colormap_lut(self.colormap) if lut is None else lut
        return series_images(x, self.method, self.size, lut, self.bounds())

    def describe(self) -> str:
        colours = "as red, green, blue" if stacked(self.method) else self.colormap
        return f"{self.method.upper()} {self.size}px, {colours}"

    @property
    def views(self) -> int:
        """Images side by side in one drawing."""
        return len(self.method.split(","))


def check_method(method: str) -> tuple[str, ...]:
    """The fields of ``method``: one name, three joined with '+', or views joined with ','."""
    views, stack = method.split(","), method.split("+")
    names = tuple(views if len(views) > 1 else stack)
    if len(stack) not in (1, 3) or not all(name in FIELDS for name in names) or (len(stack) == 3 and "mat" in stack):
        raise UsageError(f"--method must be one of {', '.join(FIELDS)}, three of them joined with '+' as the "
                         f"image's red, green and blue (gasf+gadf+mtf; not mat), or several joined with ',' as "
                         f"views side by side (seg,rp,gadf) (got {method!r})")
    return names


def stacked(method: str) -> bool:
    """Whether ``method`` draws three fields as the colour channels of one image (else each is coloured)."""
    check_method(method)
    return "+" in method


def field(x: torch.Tensor, name: str, size: int, bounds=None) -> torch.Tensor:
    """One field of each series: ``x`` (..., L) to float32 (..., size, size) in [-1, 1].
    ``bounds`` (low and high per channel, ``(C, 1)``) fix the scaling of ``gaf``, ``gasf`` and
    ``rp``; ``mtf`` bins each series by its own quantiles, which no scaling changes."""
    if name in gaf.METHODS:
        return gaf.gaf(x, size, name, bounds)
    if name == "rp":
        return recurrence_plot(x, size, bounds)
    if name == "seg":
        return segments(x, size, bounds)
    return markov_transition_field(x, size)


def segments(x: torch.Tensor, size: int, bounds=None) -> torch.Tensor:
    """The series folded into rows of ceil(sqrt(L)) points, then resized to ``size`` a side."""
    import math

    import torch

    gaf.check_size(size)
    length = x.shape[-1]
    side = math.ceil(math.sqrt(length))
    scaled, _ = gaf.angles(x, length, bounds)  # every value, scaled; the last row filled with the last value
    grid = torch.nn.functional.pad(scaled.reshape(-1, 1, length), (0, side * side - length), mode="replicate")
    grid = grid.reshape(-1, 1, side, side)
    out = torch.nn.functional.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)
    return out.reshape(*x.shape[:-1], size, size)


def channel_matrix(x: torch.Tensor, size: int, bounds=None) -> torch.Tensor:
    """Series ``(n, C, L)`` as one field each, ``(n, 1, size, size)``: channels as rows, time as
    columns, bilinear."""
    import torch

    gaf.check_size(size)
    if bounds is None:
        low, high = x.amin((1, 2), keepdim=True), x.amax((1, 2), keepdim=True)
    else:
        low, high = bounds[0].min(), bounds[1].max()
    scaled = ((x - low) / (high - low).clamp_min(1e-12) * 2 - 1).clamp(-1, 1)
    return torch.nn.functional.interpolate(scaled[:, None].float(), size=(size, size), mode="bilinear",
                                           align_corners=False)


def recurrence_plot(x: torch.Tensor, size: int, bounds=None) -> torch.Tensor:
    cos, _ = gaf.angles(x, gaf.check_size(size), bounds)
    return (cos.unsqueeze(-1) - cos.unsqueeze(-2)).abs_().sub_(1)


def markov_transition_field(x: torch.Tensor, size: int, n_bins: int = MTF_BINS) -> torch.Tensor:
    """The MTF averaged over windows, without the L x L field: with F[a, p] the share of window
    a's values in bin p, the window means are F W F^T."""
    import torch

    gaf.check_size(size)
    lead, length = x.shape[:-1], x.shape[-1]
    flat = x.reshape(-1, length)
    step = max(1, _CHUNK_BYTES // (8 * n_bins * length))
    out = torch.cat([_mtf(part.to(torch.float64), size, n_bins) for part in gaf.in_chunks(flat, step)])
    return out.float().reshape(*lead, size, size)


def _mtf(x: torch.Tensor, size: int, n_bins: int) -> torch.Tensor:
    import torch

    edges = torch.quantile(x, torch.linspace(0, 1, n_bins + 1, dtype=x.dtype, device=x.device)[1:-1], dim=-1)
    # pyts's np.searchsorted(edges, x, side='left'): how many edges lie below each value (ONNX has no searchsorted)
    bins = (x.unsqueeze(-1) > edges.T.unsqueeze(1)).sum(-1)
    pairs = bins[:, :-1] * n_bins + bins[:, 1:]
    counts = torch.zeros(x.shape[0], n_bins * n_bins, dtype=x.dtype, device=x.device)  # len(x) would fix the batch size in an export
    counts.scatter_add_(1, pairs, torch.ones_like(pairs, dtype=x.dtype))
    counts = counts.view(-1, n_bins, n_bins)
    transitions = counts / counts.sum(-1, keepdim=True).clamp_(min=1)
    onehot = torch.nn.functional.one_hot(bins, n_bins).to(x.dtype)  # (B, L, bins)
    shares = gaf.resample(onehot.transpose(1, 2), size).transpose(1, 2)  # (B, size, bins)
    return (shares @ transitions @ shares.transpose(1, 2)).mul_(2).sub_(1).clamp_(-1, 1)


def series_images(x: torch.Tensor, method: str, size: int, lut: torch.Tensor, bounds=None) -> torch.Tensor:
    """Series ``(n, C, L)`` as uint8 RGB images ``(n, H, W, 3)``: one field coloured by ``lut``,
    or three as the colour channels; several series channels tiled (``gaf.mosaic``); views side
    by side, left to right."""
    import torch

    if "," in method:
        return torch.cat([series_images(x, view, size, lut, bounds) for view in method.split(",")], dim=2)
    fields = series_fields(x, method, size, bounds)
    if not stacked(method):
        return gaf.to_rgb(fields, lut)
    return gaf.mosaic(gaf.to_levels(fields).movedim(1, -1))  # (n, 3, C, N, N) -> (n, C, N, N, 3)


def series_fields(x: torch.Tensor, method: str, size: int, bounds=None) -> torch.Tensor:
    """The float32 fields themselves: ``(n, C, N, N)`` for one field, ``(n, 3, C, N, N)`` for a
    stack, ``(n, C, N, V * N)`` for V views side by side."""
    import torch

    if method == "mat":
        return channel_matrix(x, size, bounds)
    fields = [field(x, name, size, bounds) for name in check_method(method)]
    if "," in method:
        return torch.cat(fields, dim=-1)
    return fields[0] if len(fields) == 1 else torch.stack(fields, 1)
