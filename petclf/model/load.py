"""A model file back as the torch module that predicts: each network rebuilt from the file's
metadata, behind its GafStem for series, averaged when the file holds an ensemble, its
weights loaded from safetensors (no pickle, no fastai), class probabilities out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from petclf.device import resolve_device
from petclf.model.file import ModelMeta, read_model

if TYPE_CHECKING:
    import torch


def load_module(path: Path, device: str = "auto") -> tuple[torch.nn.Module, ModelMeta, torch.device]:
    """The model in ``path`` (a model file or run folder) in eval mode on ``device``, channels-last
    as in training: uint8 NHWC pixels (or series) in, probabilities out."""
    import torch

    from petclf.model.layers import Ensemble, Probabilities, shared
    from petclf.model.weights import load_into

    state, meta = read_model(path)
    model = trained_network(meta) if meta.members == 1 else Ensemble(
        [trained_network(meta) for _ in range(meta.members)])
    load_into(model, state, str(path))
    if meta.members > 1:
        model = shared(model)
    model = Probabilities(model, *((meta.mean, meta.std) if meta.series is None else (None, None)), meta.temperature)
    torch_device = resolve_device(device)
    return model.eval().to(torch_device, memory_format=torch.channels_last), meta, torch_device


def trained_network(meta: ModelMeta) -> torch.nn.Module:
    """One model as trained, without weights: the network, behind its GafStem for series."""
    from petclf.model.build import rebuild

    model = rebuild(meta.net)
    if meta.series is None:
        return model
    from petclf.model.stem import series_classifier

    return series_classifier(meta, model)
