"""Which device runs the maths, and in which precision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from petclf.errors import UsageError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` (the first GPU when there is one), ``cpu``, ``cuda`` or ``cuda:N``."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name!r}: expected auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: no CUDA GPU is available here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: there are only {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise UsageError(f"--device {name!r}: expected auto, cpu, cuda or cuda:N")
    return device


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` is fp16 mixed precision on a GPU (fastai's default there) and fp32 on the CPU."""
    if precision not in PRECISIONS:
        raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    if precision == "auto":
        return "fp16" if device.type == "cuda" else "fp32"
    if precision != "fp32" and device.type != "cuda":
        raise UsageError(f"--precision {precision}: mixed precision needs a CUDA device; use fp32 on the CPU")
    return precision
