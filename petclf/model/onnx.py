"""Exported models: a petclf model as one ONNX file, for predicting without torch.

``predict`` on a ``.safetensors`` model spends most of a cold start importing torch, timm and
torchvision (torchvision's ``roi_align`` imports ``torch._dynamo``); onnxruntime loads and runs
the same network in a fraction of that (README, Performance). The exported graph starts where
``predict`` starts, with the uint8 pixels read from disk (or the series as read), and ends with
class probabilities, so normalisation cannot drift between the two engines. The model file's
metadata travels in the ONNX file's ``metadata_props``, and the weights inside it: an ONNX file
is a protobuf graph of standard operators, and loading it runs no code from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from petclf.atomic import atomic_file
from petclf.errors import DataError, UsageError
from petclf.model.file import ModelMeta, model_path

SUFFIX = ".onnx"


def export_onnx(model: Path, out: Path | None = None, overwrite: bool = False) -> Path:
    """Write ``model`` (a model file or run folder) to ``out`` (default: beside the model file,
    named like it) as a self-contained ONNX file."""
    import torch

    from petclf.model.load import load_module

    out = Path(out) if out else model_path(model).with_suffix(SUFFIX)
    if out.suffix != SUFFIX:
        raise UsageError(f"{out}: the exported file's name must end in {SUFFIX}")
    if out.exists() and not overwrite:
        raise UsageError(f"{out} exists; pass --overwrite to replace it")
    module, meta, _ = load_module(model, "cpu")
    if meta.input == "series":  # the stem draws their images inside the graph, as in torch
        name, example = "series", torch.randn(2, meta.series.channels, meta.series.length)
    else:
        name, example = "pixels", torch.zeros(2, meta.image_size, meta.image_size, 3, dtype=torch.uint8)
    program = torch.onnx.export(module, (example,), dynamo=True, verbose=False, external_data=False,
                                input_names=[name], output_names=["probabilities"],
                                dynamic_shapes=({0: torch.export.Dim("batch")},))
    program.model.metadata_props["petclf"] = meta.to_json()
    with atomic_file(out) as tmp:
        program.save(str(tmp), external_data=False)
    return out


def load_onnx(path: Path) -> tuple[ModelMeta, Callable[[np.ndarray], np.ndarray]]:
    """The metadata of an exported model, and the function from a batch to probabilities."""
    import onnxruntime

    path = model_path(path)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about graph optimisation
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's error types (InvalidProtobuf, InvalidGraph, …) are in its private capi
        raise DataError(path, f"not a readable ONNX model ({str(error).split(':')[-1].strip()})") from None
    header = session.get_modelmeta().custom_metadata_map
    if "petclf" not in header:
        raise DataError(path, "an ONNX file without petclf metadata (not exported by petclf export)")
    meta = ModelMeta.from_json(header["petclf"], path)
    name = session.get_inputs()[0].name
    return meta, lambda batch: session.run(None, {name: batch})[0]
