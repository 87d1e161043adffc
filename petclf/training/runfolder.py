"""What a training run leaves in its folder, and reading back how it was started:

    model.safetensors      weights + metadata (model/file.py); all predict needs
    history.csv            one row per epoch (and member)
    history.png            the training curves, the kept epoch marked
    metrics.json           the validation numbers and how they were reached
    valid_predictions.csv  each validation item: label, prediction, confidence (and member)
    confusion_matrix.png   the validation confusion matrix
    reliability.png        accuracy against confidence on the validation items, before and after calibration
    lr_find.png            the learning-rate finder's curve, when it chose the rate
    batch.png              a training batch as the model sees it, augmentation applied (preview.py)
    args.json              the options of the run, and how its data were loaded

A run of several members (``--folds K``) validates each member on the fold it did not train
on, so every training item is predicted once by a model that never saw it: the out-of-fold
predictions. Their accuracy is the run's, an honest estimate for one member; the ensemble,
which averages all members, usually does at least as well.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from petclf.atomic import write_csv, write_json
from petclf.errors import PetclfError, UsageError
from petclf.model.file import MODEL_NAME, ModelMeta, save_model
from petclf.training.kinds import kind_of

if TYPE_CHECKING:
    import torch

    from petclf.splits import LabelledSplit


@dataclass(frozen=True)
class Member:
    """One trained model of a run, with its predictions on the items it was validated on."""

    state: dict[str, torch.Tensor]
    valid: list[int]  # indices into the data
    probs: np.ndarray  # (len(valid), n_classes)
    losses: list[float]  # cross-entropy of each validation item, from the logits
    history: list[dict]
    best_epoch: int


def write_run(folder: Path, data: LabelledSplit, meta: ModelMeta, members: list[Member], args: dict) -> dict:
    """Write the finished run; returns its metrics (the caller adds how the rate was chosen)."""
    from petclf import plots
    from petclf.metrics import macro_f1, score

    ensemble = len(members) > 1
    rows = [(k, i, p) for k, member in enumerate(members) for i, p in zip(member.valid, member.probs, strict=True)]
    true = [data.labels[i] for _, i, _ in rows]
    meta, calibrated, calibration = _calibrated(meta, np.stack([p for _, _, p in rows]), true, folder)
    save_members(folder, members, meta)
    write_csv(folder / "history.csv", history_rows([member.history for member in members], ensemble))
    predicted = [meta.classes[int(p.argmax())] for p in calibrated]
    scored = score(true, predicted, meta.classes)
    item = kind_of(data).item
    write_csv(folder / "valid_predictions.csv", [
        {item: data.names[i], "label": t, "predicted": guess, "confidence": round(float(p.max()), 6),
         **({"member": k + 1} if ensemble else {})} for (k, i, _), p, t, guess in zip(rows, calibrated, true, predicted, strict=True)])
    plots.save_confusion_matrix(np.array(scored.matrix), meta.classes, folder / "confusion_matrix.png")
    plots.save_history([m.history for m in members], [m.best_epoch for m in members], folder / "history.png")
    write_json(folder / "args.json", args)
    metrics = _metrics(data, meta, members, scored.accuracy)
    return {**metrics, "macro_f1": macro_f1(true, predicted), "calibration": calibration}


def _calibrated(meta: ModelMeta, probs: np.ndarray, true: list[str], folder: Path) -> tuple[ModelMeta, np.ndarray, dict]:
    """The model's metadata with its calibration fitted on the validation predictions (out-of-fold
    for an ensemble), those predictions calibrated, and the report for metrics.json; the
    reliability diagram written. The "after" figures are measured on the items the temperature
    was fitted on: an optimistic estimate (bench/calibration.py measures on test files)."""
    from petclf import calibration, plots

    labels = np.array([meta.classes.index(label) for label in true])
    fitted = calibration.calibrate(probs, labels)
    after = calibration.scaled(probs, fitted.temperature)
    quality, bins = calibration.before_and_after(probs, after, labels)
    plots.save_reliability(bins["before"], bins["after"], quality, folder / "reliability.png",
                           f"{len(labels)} validation items")
    return replace(meta, calibration=fitted), after, {"temperature": fitted.temperature, "items": len(labels),
                                                      **quality}


def history_rows(histories: list[list[dict]], ensemble: bool) -> list[dict]:
    """history.csv's rows: each member's epochs, numbered by member in an ensemble."""
    return [{**({"member": k + 1} if ensemble else {}), **row} for k, rows in enumerate(histories) for row in rows]


def save_members(folder: Path, members: list[Member], meta: ModelMeta) -> None:
    """model.safetensors with ``members``: one model's weights as they are, several's each under
    ``members.K.``, as predict averages them."""
    state = members[0].state if len(members) == 1 else {
        f"members.{k}.{name}": t for k, member in enumerate(members) for name, t in member.state.items()}
    save_model(folder / MODEL_NAME, state, replace(meta, members=len(members)))


def member_states(state: dict[str, torch.Tensor], members: int) -> list[dict[str, torch.Tensor]]:
    """Each member's weights in a model file's ``state`` of ``members`` models (save_members' layout)."""
    if members == 1:
        return [state]
    return [{name[len(prefix):]: t for name, t in state.items() if name.startswith(prefix)}
            for prefix in (f"members.{k}." for k in range(members))]


def _metrics(data: LabelledSplit, meta: ModelMeta, members: list[Member], accuracy: float) -> dict:
    kind = kind_of(data).name
    seconds = sum(row["seconds"] for member in members for row in member.history)
    trained = sum(len(data.labels) - len(m.valid) for m in members for _ in m.history)
    valid = [i for member in members for i in member.valid]
    metrics = {"accuracy": accuracy, "error_rate": 1 - accuracy,
               "valid_loss": float(np.mean([loss for member in members for loss in member.losses])),
               "epochs": len(members[0].history), "classes": meta.classes, "input": meta.input,
               f"train_{kind}": len(data.labels) - len(members[0].valid) if len(members) == 1 else len(data.labels),
               f"valid_{kind}": len(valid), **kind_of(data).facts(data), "seconds": round(seconds, 2),
               f"train_{kind}_per_second": round(trained / seconds, 2) if seconds else None,
               "arch": meta.net.arch, "best_epoch": members[0].best_epoch}
    if len(members) > 1:
        metrics.update(validation="out-of-fold", folds=len(members), best_epoch=[m.best_epoch for m in members],
                       members=[{"member": k + 1, "valid_items": len(m.valid), "best_epoch": m.best_epoch,
                                 "accuracy": float(np.mean([meta.classes[int(p.argmax())] == data.labels[i]
                                                            for i, p in zip(m.valid, m.probs, strict=True)])),
                                 "valid_loss": float(np.mean(m.losses))} for k, m in enumerate(members)])
    return metrics


ARGS_FORMAT = "petclf-run/1"  # args.json; files without a format are from before it, and read as /1


def run_args(options, source: dict | None, finished: dict | None = None) -> dict:
    """args.json: the options (a dataclass), how the data were loaded, and for a finished run
    what ``--resume RUN --epochs N`` goes on from (``finished``: lr, lr_source, weights, each
    member's kept epoch in best_epochs). metrics.json is a report, never read back."""
    return {"format": ARGS_FORMAT, "data": source,
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
            **({"finished": finished} if finished else {})}


def read_finished(run: Path) -> dict:
    """What a finished run goes on from, from args.json; runs from before it was kept there give
    it from their metrics.json (one kept epoch, not a list, for one model)."""
    run = Path(run)
    args = json.loads((run / "args.json").read_text())
    if "finished" in args:
        return args["finished"]
    metrics = json.loads((run / "metrics.json").read_text())
    best = metrics["best_epoch"]
    return {"lr": metrics["lr"], "lr_source": metrics["lr_source"], "weights": metrics["weights"],
            "best_epochs": best if isinstance(best, list) else [best]}


def read_args(run: Path) -> tuple[dict, dict]:
    """How a run folder's data were loaded (``source``) and its options, from its args.json."""
    path = Path(run) / "args.json"
    try:
        args = json.loads(path.read_text())
        if args.get("format", ARGS_FORMAT) != ARGS_FORMAT:
            raise PetclfError(f"{path}: a run of another petclf ({args['format']}, this one reads {ARGS_FORMAT})")
        options = dict(args["options"])
        options["weights"] = options["weights"] and Path(options["weights"])
        options["init"] = options.get("init") and Path(options["init"])
        options["tensorboard"] = options.get("tensorboard") and Path(options["tensorboard"])
        options["callbacks"] = tuple(options.get("callbacks", ()))
        options.setdefault("folds", 1)  # runs from before ensembles were one model
        options.setdefault("lr_mult", 100)  # and trained the body at fine_tune's lr / 100
        options.setdefault("balance", None)
        options.setdefault("rocket", False)  # ridge members before MiniRocket's features
        options["added_epochs"] = tuple(options.get("added_epochs", ()))
        if not isinstance(args["data"], dict):
            raise PetclfError(f"{path}: the run was not started by petclf train, so it says no data to resume with")
        return args["data"], options
    except FileNotFoundError:
        raise UsageError(f"{run}: not a run folder (no args.json)") from None
    except (ValueError, TypeError, KeyError) as error:
        raise PetclfError(f"{path}: malformed ({error})") from None


def read_history(run: Path) -> list[list[dict]]:
    """history.csv as each member's rows, as the run's Board wrote them (numbers as numbers)."""
    path = Path(run) / "history.csv"
    try:
        with path.open(newline="") as handle:
            rows = [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(handle)]
    except OSError as error:
        raise PetclfError(f"{path}: unreadable ({error.strerror})") from None
    members: dict[int, list[dict]] = {}
    for row in rows:
        members.setdefault(row.pop("member", 1), []).append(row)
    return [members[k] for k in sorted(members)]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
