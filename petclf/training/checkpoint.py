"""What an interrupted training run leaves in its folder so that ``petclf train --resume`` can
continue it: the last completed epoch's model as ``model.safetensors`` (``predict`` can use
it as it is) and, beside it, ``checkpoint.safetensors`` with the rest of the training state:
fastai's optimizer state, the best weights so far, the history, the learning rate.

A finished run can go on too (``--resume RUN --epochs N``): ``continuation`` reads it as one
checkpoint per member, from its kept weights, with a fresh optimizer state, as each phase of
fastai's ``fine_tune`` begins with.

An ensemble interrupted in member K keeps the members before it: ``model.safetensors`` holds
them (predict averages them as they are), and the checkpoint their validation predictions and
histories, and member K's last completed epoch, if any; ``--resume`` goes on from member K.

Both are safetensors (raw tensors and a JSON header), so resuming, like predicting, never
unpickles anything; ``torch.save`` checkpoints would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from petclf.atomic import atomic_file
from petclf.errors import DataError, UsageError
from petclf.model.file import MODEL_NAME, ModelMeta, read_model, save_model
from petclf.training.runfolder import Member, member_states, save_members

if TYPE_CHECKING:
    import torch

CHECKPOINT_NAME = "checkpoint.safetensors"
FORMAT = "petclf-checkpoint/2"  # 2: an ensemble's finished members; /1 files read as before
READS = ("petclf-checkpoint/1", FORMAT)


@dataclass(frozen=True)
class Best:
    """The epoch with the lowest validation loss so far, and its weights."""

    loss: float
    epoch: int
    state: dict[str, torch.Tensor]


@dataclass(frozen=True)
class Checkpoint:
    epochs_done: int  # how far the schedule has gone (train._schedule), the frozen epochs included
    history: list[dict]  # their rows of history.csv
    model: dict[str, torch.Tensor]  # the weights at the end of the last of them
    optimizer: dict  # fastai's Optimizer.state_dict() then: {"state": [per parameter], "hypers": [per group]}
    best: Best | None
    lr: float | None  # None for a ridge member, which has none
    lr_source: str
    origin: str  # where the starting weights came from
    classes: list[str]  # the model's (stored once, in model.safetensors' metadata)
    patience_from: int = -1  # early stopping counts from this epoch when it is later than the best's
    finished: tuple[Member, ...] = ()  # an ensemble's members trained before this one, in order
    smooth_loss: tuple[float, int] | None = None  # the Recorder's smoothed training loss then: value, batches

    @property
    def started(self) -> bool:
        """Whether this member completed an epoch (an ensemble may stop between members)."""
        return self.epochs_done > 0


def save_checkpoint(folder: Path, checkpoint: Checkpoint, meta: ModelMeta) -> None:
    """model.safetensors (the finished members, else the last epoch's model) and the checkpoint."""
    from safetensors.torch import save_file

    finished = list(checkpoint.finished)
    tensors, optimizer = _split_optimizer(checkpoint.optimizer) if checkpoint.started else ({}, {})
    if finished:
        save_members(folder, finished, meta)
        tensors.update({f"model.{name}": t for name, t in checkpoint.model.items()})
        tensors.update({f"finished.{k}.probs": _tensor(m.probs) for k, m in enumerate(finished)})
    else:
        save_model(folder / MODEL_NAME, checkpoint.model, meta)
    header = {"format": FORMAT, "epochs_done": checkpoint.epochs_done, "history": checkpoint.history,
              "optimizer": optimizer, "lr": checkpoint.lr, "lr_source": checkpoint.lr_source,
              "origin": checkpoint.origin, "patience_from": checkpoint.patience_from,
              "smooth_loss": checkpoint.smooth_loss,
              "finished": [{"valid": m.valid, "losses": m.losses, "history": m.history, "best_epoch": m.best_epoch}
                           for m in finished]}
    if checkpoint.best is not None:
        header.update(best_loss=checkpoint.best.loss, best_epoch=checkpoint.best.epoch)
        tensors.update({f"best.{name}": t for name, t in checkpoint.best.state.items()})
    tensors = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    with atomic_file(folder / CHECKPOINT_NAME) as tmp:
        save_file(tensors, str(tmp), metadata={"petclf-checkpoint": json.dumps(header)})


def read_checkpoint(folder: Path) -> Checkpoint:
    """The checkpoint in a run folder; a folder without one was not interrupted (or is not a
    run folder)."""
    from safetensors import SafetensorError, safe_open

    path = Path(folder) / CHECKPOINT_NAME
    if not path.is_file():
        finished = (Path(folder) / "metrics.json").is_file()
        raise UsageError(f"{folder}: nothing to resume ("
                         + ("the run finished; add epochs with --epochs N)" if finished else f"no {CHECKPOINT_NAME})"))
    saved, meta = read_model(Path(folder) / MODEL_NAME)
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = json.loads((handle.metadata() or {}).get("petclf-checkpoint", "{}"))
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
        if header.get("format") not in READS:
            raise ValueError(f"format is not {FORMAT}")
        finished = _finished(header.get("finished", []), saved, meta, tensors)
        best = None
        if "best_epoch" in header:
            best = Best(float(header["best_loss"]), int(header["best_epoch"]), _prefixed(tensors, "best."))
        optimizer = _join_optimizer(header["optimizer"], _prefixed(tensors, "opt.")) if header["optimizer"] else {}
        checkpoint = Checkpoint(int(header["epochs_done"]), list(header["history"]),
                                _prefixed(tensors, "model.") if finished else saved, optimizer, best,
                                _rate(header["lr"]), str(header["lr_source"]), str(header["origin"]),
                                meta.classes, int(header.get("patience_from", -1)), finished,
                                _smooth_loss(header.get("smooth_loss")))
    except (SafetensorError, OSError) as error:
        raise DataError(path, f"not a readable safetensors file ({error})") from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise DataError(path, f"checkpoint is malformed ({error})") from None
    return checkpoint


def continuation(folder: Path, members: int, position: int) -> list[Checkpoint]:
    """Each member of the finished run in ``folder`` as a checkpoint at epoch ``position`` of
    its schedule (past the epochs early stopping skipped): its kept weights, which stay the best
    unless a later epoch has a lower validation loss."""
    from petclf.training.runfolder import read_finished, read_history

    folder = Path(folder)
    if (folder / CHECKPOINT_NAME).is_file():
        raise UsageError(f"{folder}: the run was interrupted; finish it first with: petclf train --resume {folder}")
    state, meta = read_model(folder / MODEL_NAME)
    histories = read_history(folder)
    try:
        finished = read_finished(folder)
        best_epochs = finished["best_epochs"]
        facts = dict(lr=float(finished["lr"]), lr_source=str(finished["lr_source"]), origin=str(finished["weights"]),
                     classes=meta.classes)
        if len(histories) != members or len(best_epochs) != members:
            raise ValueError(f"it has {len(histories)} members' histories, the run {members}")
        checkpoints = []
        for history, best_epoch, weights in zip(histories, best_epochs, member_states(state, members), strict=True):
            best = Best(float(history[best_epoch]["valid_loss"]), int(best_epoch), weights)
            checkpoints.append(Checkpoint(position, history, weights, {}, best, **facts,
                                          patience_from=len(history) - 1))
    except FileNotFoundError:
        raise UsageError(f"{folder}: the run did not finish (no metrics.json)") from None
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise DataError(folder / "args.json", f"what the run finished with does not match its history ({error})") from None
    return checkpoints


def _finished(rows: list[dict], saved: dict, meta: ModelMeta, tensors: dict) -> tuple[Member, ...]:
    """The finished members a checkpoint lists, their weights from model.safetensors."""
    if rows and len(rows) != meta.members:
        raise ValueError(f"it lists {len(rows)} finished members, {MODEL_NAME} holds {meta.members}")
    return tuple(Member(state, [int(i) for i in row["valid"]], tensors[f"finished.{k}.probs"].numpy(),
                        [float(x) for x in row["losses"]], list(row["history"]), int(row["best_epoch"]))
                 for k, (row, state) in enumerate(zip(rows, member_states(saved, len(rows)), strict=True)))


def _rate(saved) -> float | None:
    return None if saved is None else float(saved)


def _smooth_loss(saved: list | None) -> tuple[float, int] | None:
    return None if saved is None else (float(saved[0]), int(saved[1]))


def _tensor(array):
    import torch

    return torch.from_numpy(array)


def _prefixed(tensors: dict, prefix: str) -> dict:
    return {name[len(prefix):]: t for name, t in tensors.items() if name.startswith(prefix)}


def _split_optimizer(state_dict: dict) -> tuple[dict, dict]:
    """fastai's optimizer state as tensors (``opt.<param>.<key>``) and JSON for the rest."""
    import torch

    tensors, plain = {}, []
    for i, state in enumerate(state_dict["state"]):
        plain.append({})
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{i}.{key}"] = value
            else:
                plain[-1][key] = _json_value(value)
    hypers = [{key: _json_value(value) for key, value in group.items()} for group in state_dict["hypers"]]
    return tensors, {"state": plain, "hypers": hypers}


def _join_optimizer(plain: dict, tensors: dict) -> dict:
    state = [dict(values) for values in plain["state"]]
    for name, tensor in tensors.items():
        index, key = name.split(".", 1)
        state[int(index)][key] = tensor
    return {"state": state, "hypers": [dict(group) for group in plain["hypers"]]}


def _json_value(value):
    """A number or flag as JSON keeps it (numpy scalars included); anything else is a bug."""
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, (bool, int, float, str)):
        raise TypeError(f"cannot store an optimizer value of type {type(value).__name__}")
    return value
