"""What ``petclf tune`` searches: a range or a list of choices per training option, named as
``TrainOptions`` names them (and as ``--config`` files and flags do). A default space for each kind
of data, or one read from ``--space FILE``:

    lr: {low: 0.0001, high: 0.03, log: true}   # a float range (log: sampled on a log scale)
    epochs: {low: 2, high: 12}                 # an integer range: both ends integers
    bs: [16, 32, 64]                           # choices
    arch: tf_efficientnet_lite0                # one value: fixed for every trial

The options of fine-tuning (recipe.FINE_TUNING) are sampled only when the trial fine-tunes, so a
space may offer ``member: [ridge, fine-tune]`` beside a learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petclf.errors import UsageError

# What a trial may vary, and the type of its values. Not: data, device, seed and run-keeping options.
TUNABLE: dict[str, type] = {
    "arch": str, "member": str, "rocket": bool, "method": str, "size": int, "scaling": str, "colormap": str,
    "epochs": int, "freeze_epochs": int, "lr": float, "lr_mult": float, "bs": int, "augment": bool, "wd": float,
    "dropout": float, "label_smoothing": float, "mixup": float, "opt": str, "balance": str,
}


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def suggest(self, trial, name: str):
        if self.integer:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, self.low, self.high, log=self.log)


@dataclass(frozen=True)
class Choice:
    values: tuple

    def suggest(self, trial, name: str):
        return trial.suggest_categorical(name, list(self.values)) if len(self.values) > 1 else self.values[0]


Space = dict[str, Range | Choice]

# Photographs, fine-tuned: fastai's knobs around their defaults (inputs.IMAGES).
IMAGES: Space = {
    "lr": Range(1e-4, 3e-2, log=True), "lr_mult": Choice((1, 10, 100)), "epochs": Range(1, 8, integer=True),
    "bs": Choice((16, 32, 64)), "augment": Choice((True, False)), "wd": Range(1e-4, 1e-1, log=True),
    "dropout": Range(0.0, 0.7), "label_smoothing": Choice((0.0, 0.1)),
}
# Thumbnails (inputs.THUMBNAILS): the input size and longer schedules matter more than augmentation.
THUMBNAILS: Space = {
    "size": Choice((32, 64, 96)), "lr": Range(1e-3, 3e-2, log=True), "lr_mult": Choice((1, 10)),
    "epochs": Range(5, 30, integer=True), "bs": Choice((8, 16, 32)), "wd": Range(1e-4, 1e-1, log=True),
    "dropout": Range(0.0, 0.7), "augment": Choice((False, True)),
}
# Series, ridge members (fitted in seconds): how a series is drawn, at what size, and MiniRocket's features.
SERIES: Space = {
    "method": Choice(("seg,rp,gadf", "gadf", "seg", "rp", "seg,rp")), "size": Choice((128, 160, 224, 288)),
    "rocket": Choice((True, False)),
}
SERIES_CHANNELS: Space = {"size": Choice((128, 160, 224, 288)), "rocket": Choice((True, False))}  # "mat" only


def space_for(data) -> Space:
    """The default space for labelled ``data``: that of its kind (series of several channels have
    only "mat"), and for images the thumbnails' when train's defaults for them are the thumbnails'
    (inputs.THUMBNAILS)."""
    from petclf import inputs
    from petclf.training.kinds import kind_of

    kind = kind_of(data)
    if kind.name == "series":
        return dict(SERIES if data.shape[0] == 1 else SERIES_CHANNELS)
    return dict(THUMBNAILS if kind.defaults(data) == inputs.THUMBNAILS else IMAGES)


def read_space(path: Path) -> Space:
    """A space from a JSON or YAML file; a one-line error for an unknown option, a range that is
    empty or of the wrong type, or no choices."""
    import json

    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    try:
        text = Path(path).read_text()
        raw = json.loads(text) if Path(path).suffix.lower() == ".json" else _yaml(text)
    except ValueError as error:
        raise UsageError(f"{path}: not a JSON or YAML search space ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not raw:
        raise UsageError(f"{path}: not a search space (expected option: range or choices)")
    return {name: _entry(path, name, value) for name, value in (
        (str(key).replace("-", "_"), value) for key, value in raw.items())}


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None


def _entry(path: Path, name: str, value: Any) -> Range | Choice:
    if name not in TUNABLE:
        raise UsageError(f"{path}: {name} is not an option a trial can vary (one of {', '.join(sorted(TUNABLE))})")
    kind = TUNABLE[name]
    if isinstance(value, dict):
        if kind not in (int, float) or not {"low", "high"} <= value.keys() or value.keys() - {"low", "high", "log"}:
            raise UsageError(f"{path}: {name}: a range is {{low, high, log}} of a number option; give a list of "
                             "choices instead" if kind not in (int, float) else f"{path}: {name}: a range needs low "
                             "and high (and may say log: true)")
        low, high, log = _number(path, name, value["low"]), _number(path, name, value["high"]), bool(value.get("log"))
        if not low < high:
            raise UsageError(f"{path}: {name}: the range {low:g} to {high:g} is empty (low must be below high)")
        if log and low <= 0:
            raise UsageError(f"{path}: {name}: a log range must be above 0 (low is {low:g})")
        if kind is int and not (low.is_integer() and high.is_integer()):
            raise UsageError(f"{path}: {name}: takes whole numbers (got {low:g} to {high:g})")
        return Range(low, high, log, integer=kind is int)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise UsageError(f"{path}: {name}: no choices (give at least one value)")
    for item in values:
        if not _fits(item, kind):
            raise UsageError(f"{path}: {name}: {item!r} is not a {kind.__name__}")
    return Choice(tuple(values))


def _number(path: Path, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{path}: {name}: {value!r} is not a number")
    return float(value)


def _fits(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def suggest(trial, space: Space, fine_tuning_names: set[str]) -> dict[str, Any]:
    """One trial's options: ``member`` first, then the rest, leaving out the options of
    fine-tuning when the trial fits ridge members, and ``rocket`` (a ridge member's) when it fine-tunes."""
    chosen = {"member": space["member"].suggest(trial, "member")} if "member" in space else {}
    left_out = {"ridge": fine_tuning_names, "fine-tune": {"rocket"}}.get(chosen.get("member"), set())
    for name, entry in space.items():
        if name != "member" and name not in left_out:
            chosen[name] = entry.suggest(trial, name)
    return chosen
