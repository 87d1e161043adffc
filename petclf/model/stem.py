"""Series in, class scores out: a field stem in front of an image classifier.

``GafStem`` turns a batch of series ``(B, C, L)`` into the images ``tsimage`` writes, on the
model's device and per batch: the field(s) (fields.py), the colormap lookup or the stack of
three fields to uint8 RGB, /255, normalisation.
The pixels are those of tsimage's PNGs as fastai loads them, so a model trained on the fly
and one trained on the PNGs see the same inputs; there is just no file in between.

Several channels reach a 3-channel pretrained stem as a mosaic: one field per channel, in
the same colours, tiled into one image (``gaf.mosaic``). The pretrained first convolution
stays as it was trained, on colour images, and any channel count works with any backbone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from petclf.series import fields, gaf
from petclf.series.fields import Imaging

if TYPE_CHECKING:
    from petclf.model.file import ModelMeta


class GafStem(nn.Module):
    """Series ``(B, C, L)`` to normalised images ``(B, 3, rows * size, cols * size)``.

    It has no parameters; the colormap, normalisation and dataset bounds are rebuilt from the
    model file's metadata, so nothing of it is stored among the weights. They are buffers, so
    they move with the model (``.to("cuda")``).
    """

    def __init__(self, imaging: Imaging, mean, std):
        super().__init__()
        self.method, self.size = imaging.check().method, imaging.size
        bounds = imaging.bounds()
        self.dataset_scaling = bounds is not None
        if bounds is not None:
            self.register_buffer("low", bounds[0], persistent=False)
            self.register_buffer("high", bounds[1], persistent=False)
        self.register_buffer("lut", gaf.colormap_lut(imaging.colormap), persistent=False)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):  # the field in float32, as tsimage's
            bounds = (self.low, self.high) if self.dataset_scaling else None
            rgb = fields.series_images(x, self.method, self.size, self.lut, bounds)
            pixels = rgb.permute(0, 3, 1, 2).float().div_(255)
            return (pixels - self.mean) / self.std


class SeriesNet(nn.Sequential):
    """``(stem, body, head)`` whose head reads the series as well as the body's features (a
    RocketHead). A slice of it is a plain Sequential, as the stem and body alone are."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stem, body, head = self
        return head(body(stem(x)), x)

    def __getitem__(self, index):
        found = super().__getitem__(index)
        return nn.Sequential(*found) if isinstance(index, slice) else found


def series_classifier(meta: ModelMeta, net: nn.Sequential) -> nn.Sequential:
    """``(stem, body, head)``, the stem made as ``meta.series`` says, for training and predicting
    alike. The image classifier's parameter names move from ``0.``/``1.`` to ``1.``/``2.``; the
    last two children stay the body and the head."""
    made = SeriesNet if meta.net.rocket else nn.Sequential
    return made(GafStem(meta.series.imaging, meta.mean, meta.std), *net)
