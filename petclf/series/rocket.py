"""MiniRocket's features of a series (Dempster, Schmidt and Webb, KDD 2021), in torch, so that a
ridge member can read them beside its pretrained body's (training/ridge.py): on held-out halves of
ten UCR/UEA training files the two together beat either alone on average (bench/results/ucr-probe.md).

84 fixed kernels of length 9 (weights -1, and 2 at three places), each at dilations spread
exponentially up to the series' length, with zero padding; each feature is the proportion of
positive values (PPV) of one kernel's convolution, less a bias drawn from the convolution of a
random training series at a quantile of the golden-ratio sequence. Half the kernels of a
dilation see the padded ends, half do not. Several channels: each kernel at each dilation sums
the convolutions of a random subset of up to 9 channels. Everything here follows aeon's
``MiniRocket`` (from the authors' code), feature for feature: tests/test_rocket.py checks the
two agree given the same fit. In torch it runs on the model's device and exports to ONNX; the
fit (dilations, channel subsets, biases) is stored in the model file, never refitted.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KERNELS = 84  # the three places of weight 2 among nine
FEATURES = 9_996  # MiniRocket's default 10,000, rounded down to a multiple of 84
MOST_DILATIONS = 32  # a kernel's, at most
MOST_CHANNELS = 9  # a kernel's channel subset, at most


def kernel_weights() -> torch.Tensor:
    """The 84 kernels, ``(84, 1, 9)``."""
    weights = torch.full((KERNELS, 1, 9), -1.0)
    for k, places in enumerate(combinations(range(9), 3)):
        weights[k, 0, list(places)] = 2.0
    return weights


def dilations(length: int) -> tuple[list[int], list[int]]:
    """The dilations for series of ``length`` points and the features each gives a kernel: up to
    ``MOST_DILATIONS`` spread exponentially so that the widest kernel spans the series."""
    per_kernel = FEATURES // KERNELS
    count = min(per_kernel, MOST_DILATIONS)
    exponent = np.log2((length - 1) / (9 - 1))
    found, counts = np.unique(np.logspace(0, exponent, count, base=2).astype(np.int32), return_counts=True)
    features = (counts * (per_kernel / count)).astype(np.int32)
    for i in range(per_kernel - int(features.sum())):
        features[i % len(features)] += 1
    return found.tolist(), features.tolist()


def _golden_quantiles(n: int) -> np.ndarray:
    return np.array([(i * ((np.sqrt(5) + 1) / 2)) % 1 for i in range(1, n + 1)], dtype=np.float32)


class MiniRocket(nn.Module):
    """Series ``(B, C, L)`` to their ``FEATURES`` PPV features, ``(B, FEATURES)``. ``masks``
    (one 0/1 row of channels per kernel and dilation) and ``biases`` are the fit, stored with the
    model's weights; ``dilation_list`` and ``features_per`` are its shape, stored in its metadata."""

    def __init__(self, channels: int, dilation_list: list[int], features_per: list[int]):
        super().__init__()
        self.dilation_list, self.features_per = list(dilation_list), list(features_per)
        self.register_buffer("weights", kernel_weights(), persistent=False)
        self.register_buffer("masks", torch.ones(len(dilation_list), KERNELS, channels))
        self.register_buffer("biases", torch.zeros(KERNELS * sum(features_per)))
        odd = torch.tensor([[(j + k) % 2 for k in range(KERNELS)] for j in range(len(dilation_list))], dtype=torch.bool)
        self.register_buffer("cropped", odd, persistent=False)  # kernels whose PPV leaves out the padded ends

    @property
    def n_features(self) -> int:
        return len(self.biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Memory grows as batch x 84 x a dilation's features x length: callers batch."""
        x = x.float()
        length = x.shape[-1]
        found, start = [], 0
        for j, (dilation, n) in enumerate(zip(self.dilation_list, self.features_per, strict=True)):
            summed = self.convolved(x, j)  # (B, 84, L)
            biases = self.biases[start:start + KERNELS * n].view(1, KERNELS, n, 1)
            pad = 4 * dilation
            whole = (summed.unsqueeze(2) > biases).float().mean(-1)
            inner = (summed[..., pad:length - pad].unsqueeze(2) > biases).float().mean(-1)
            found.append(torch.where(self.cropped[j].view(1, KERNELS, 1), inner, whole).flatten(1))
            start += KERNELS * n
        return torch.cat(found, 1)

    def convolved(self, x: torch.Tensor, j: int, kernel: int | None = None) -> torch.Tensor:
        """Each kernel's convolution at dilation ``j`` summed over its channels, ``(B, 84, L)``;
        or, given ``kernel``, that one kernel's, ``(B, L)``."""
        batch, channels, length = x.shape
        dilation = self.dilation_list[j]
        weights = self.weights if kernel is None else self.weights[kernel:kernel + 1]
        each = F.conv1d(x.reshape(batch * channels, 1, length), weights, padding=4 * dilation, dilation=dilation)
        masks = self.masks[j] if kernel is None else self.masks[j, kernel:kernel + 1]
        summed = torch.einsum("bckl,kc->bkl", each.view(batch, channels, len(weights), length), masks)
        return summed if kernel is None else summed[:, 0]


def fit_rocket(X: np.ndarray, seed: int) -> MiniRocket:
    """MiniRocket fitted to training series ``X`` ``(n, C, L)``: channel subsets and biases
    drawn with ``seed``. No labels are read."""
    n, channels, length = X.shape
    rng = np.random.default_rng(seed)
    dilation_list, features_per = dilations(length)
    rocket = MiniRocket(channels, dilation_list, features_per)
    top = min(channels, MOST_CHANNELS)
    quantiles, start = _golden_quantiles(len(rocket.biases)), 0
    biases = np.zeros(len(rocket.biases), dtype=np.float32)
    with torch.no_grad():
        for j, count in enumerate(features_per):
            for k in range(KERNELS):
                subset = rng.choice(channels, int(2 ** rng.uniform(0, np.log2(top + 1))), replace=False)
                rocket.masks[j, k] = 0
                rocket.masks[j, k, subset] = 1
            for k in range(KERNELS):
                drawn = torch.from_numpy(np.ascontiguousarray(X[rng.integers(n)][None], dtype=np.float32))
                own = rocket.convolved(drawn, j, k)[0].numpy()
                biases[start:start + count] = np.quantile(own, quantiles[start:start + count])
                start += count
        rocket.biases.copy_(torch.from_numpy(biases))
    return rocket
