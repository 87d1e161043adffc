"""Experiment logs where users already look: TensorBoard (``--tensorboard DIR``) and any fastai
callback named by its import path (``--callback fastai.callback.wandb:WandbCallback``).

fastai's own TensorBoardCallback logs at ``train_iter``, which starts again with every fit, so
``fine_tune``'s second phase would write over the first; here each epoch's row of the history is
logged at its epoch in the run, and the run's confusion matrix and training batch as images.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from petclf.errors import UsageError


def writer(log_dir: Path):
    """torch's SummaryWriter on ``log_dir``, or the one-line error that says what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UsageError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(log_dir=str(log_dir))


def log_images(log_dir: Path, images: dict[str, Path]) -> None:
    """PNG files of the finished run (confusion matrix, batch) as TensorBoard images."""
    import numpy as np
    from PIL import Image

    board = writer(log_dir)
    for tag, path in images.items():
        with Image.open(path) as image:
            board.add_image(tag, np.asarray(image.convert("RGB")), dataformats="HWC")
    board.close()


def user_callback(path: str):
    """An instance of the fastai callback (class or factory) at ``module:name``."""
    module, _, name = path.partition(":")
    if not module or not name:
        raise UsageError(f"--callback {path!r}: give it as module:name, e.g. fastai.callback.wandb:WandbCallback")
    try:
        made = getattr(importlib.import_module(module), name)()
    except ImportError as error:
        raise UsageError(f"--callback {path}: cannot import {module} ({error})") from None
    except AttributeError:
        raise UsageError(f"--callback {path}: {module} has no {name}") from None
    from fastai.callback.core import Callback

    if not isinstance(made, Callback):
        raise UsageError(f"--callback {path}: {name}() is not a fastai Callback")
    return made
