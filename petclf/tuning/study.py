"""A search over ``petclf train``'s options (Optuna): each trial trains on the training data and is
scored on what petclf train reports of it, never on a test file: the out-of-fold validation loss
of a small set's ensemble, or the held-out split's loss otherwise (the objective says which).

The study lives in a database, by default SQLite in the tune folder, so that Ctrl-C or a crash
loses at most the trial in progress (the same command runs it again first) and several processes,
on one machine or many (``--storage`` a PostgreSQL or MySQL URL), work on one study: each takes
trials until the study has as many finished as asked. A study remembers its data and its space,
and refuses to go on with others. Trials that fine-tune are pruned from the first member's
per-epoch validation loss (Optuna's median rule); ridge trials fit in seconds and are not.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from petclf import console
from petclf.atomic import atomic_file, write_csv
from petclf.errors import Interrupted, PetclfError, UsageError
from petclf.training.kinds import Labelled, kind_of
from petclf.training.recipe import FINE_TUNING, TrainOptions, with_defaults
from petclf.tuning.space import Choice, Space, suggest

DATABASE, BEST, TRIALS = "study.db", "best.yaml", "trials.csv"
PRUNE_AFTER_TRIALS, PRUNE_AFTER_EPOCHS = 3, 2  # Optuna's MedianPruner: trials and epochs before it judges
FAILURES_IN_A_ROW = 3  # then the fixed options, not the trials' own, are at fault: the search stops


@dataclass(frozen=True)
class TuneReport:
    folder: Path
    study: str
    storage: str
    objective: str  # what the value is measured on
    best: dict[str, Any]  # the best trial: number, value, accuracy, params
    finished: int  # complete trials in the study
    pruned: int
    failed: int


def tune(data: Labelled, base: TrainOptions, space: Space, folder: Path, trials: int, timeout: float | None = None,
         storage: str | None = None, study_name: str | None = None, quiet: bool = False) -> TuneReport:
    """Run trials until the study has ``trials`` finished (complete or pruned) or ``timeout``
    seconds have passed, then write best.yaml, trials.csv and the plots into ``folder``."""
    import optuna

    _check_space(space, base, data)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{(folder / DATABASE).absolute()}"
    name = study_name or "petclf"
    study = open_study(url, name, _identity(data, space), base.seed)
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(defaults_trial(space, base, data), user_attrs={"defaults": True})
    objective_text = _objective_text(data, base)
    done = _count(study)
    board_total = max(trials - done["finished"], 0)
    started = time.perf_counter()
    with console.EpochBoard(quiet) as board:
        board.start("trials", board_total)
        try:
            if board_total:
                study.optimize(lambda trial: _objective(trial, data, base, space, folder), timeout=timeout,
                               callbacks=[optuna.study.MaxTrialsCallback(trials, states=_finished()),
                                          _Shown(board)], catch=(PetclfError,))
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {_count(study)['finished']} of {trials} trials finished; the same "
                              f"command goes on (the study is in {url})") from None
    report = _report(study, folder, url, objective_text)
    _write_outputs(study, folder, base, report)
    if not quiet:
        console.note(f"{time.perf_counter() - started:.0f} s; objective: {objective_text}")
    return report


def _optuna():
    try:
        import optuna
    except ImportError:
        raise UsageError("petclf tune searches with Optuna, which is not installed: pip install 'petclf[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(url: str, name: str, identity: dict, seed: int):
    """The study ``name`` in the database at ``url``, made if new; one that searched other data or
    another space is refused. Trials that Ctrl-C stopped are queued to run again first."""
    optuna = _optuna()
    try:
        storage = _storage(optuna, url)
        existing = next((s for s in storage.get_all_studies() if s.study_name == name), None)
    except Exception as error:  # SQLAlchemy's errors for a URL it cannot reach or parse
        raise UsageError(f"--storage {url}: cannot open the study database ({str(error).splitlines()[0]})") from None
    if existing is not None and existing.user_attrs.get("petclf") != identity:
        raise UsageError(f"study {name!r} in {url} searched other data or another space "
                         f"({existing.user_attrs.get('petclf')}); use another --study name or tune folder")
    study = optuna.create_study(storage=storage, study_name=name, direction="minimize", load_if_exists=True,
                                pruner=optuna.pruners.MedianPruner(PRUNE_AFTER_TRIALS, PRUNE_AFTER_EPOCHS))
    # seeded by the trials already there: a new study draws as the last did, and workers that join draw apart
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.get_trials(deepcopy=False)))
    study.set_user_attr("petclf", identity)
    _queue_interrupted(study)
    return study


# What SQLAlchemy says to the losers of that race: a table the winner made, or the schema version
# row it wrote (alembic's, which Optuna keeps beside its tables).
RACE = ("already exists", "UNIQUE constraint failed: alembic_version")


def _storage(optuna, url: str, tries: int = 3):
    """Optuna's storage at ``url``. Processes that open a new database at once race to create its
    tables (``RACE``); the losers open it again once the winner has."""
    for attempt in range(tries):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}}
                                              if url.startswith("sqlite") else {})
        except Exception as error:  # SQLAlchemy's OperationalError, for this race and for a bad URL alike
            if attempt == tries - 1 or not any(sign in str(error) for sign in RACE):
                raise
            time.sleep(1 + attempt)


def _identity(data: Labelled, space: Space) -> dict:
    """What a study was made for: its data's labels and classes, and its space."""
    import hashlib

    labels = hashlib.sha256("\n".join(data.labels).encode()).hexdigest()[:16]
    return {"items": len(data.labels), "classes": list(data.classes), "labels_sha256": labels,
            "space": {name: {"choices": list(e.values)} if isinstance(e, Choice) else asdict(e)
                      for name, e in sorted(space.items())}}


def _queue_interrupted(study) -> None:
    import optuna

    queued = set(study.user_attrs.get("requeued", []))
    stopped = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,))
               if t.user_attrs.get("interrupted") and t.number not in queued]
    for trial in stopped:
        study.enqueue_trial(trial.params, user_attrs={"again_for": trial.number})
    if stopped:
        study.set_user_attr("requeued", sorted(queued | {t.number for t in stopped}))


def defaults_trial(space: Space, base: TrainOptions, data: Labelled) -> dict[str, Any]:
    """The first trial of a new study: petclf train's own defaults for the data, where the space
    holds them (the rest drawn), so that the best trial is never worse than the defaults on the
    objective. (Without it, a first study of six trials on ArrowHead chose options the defaults
    beat by 0.044 on the test file: bench/results/tune-2026-12-01-first.md.)"""
    options = with_defaults(base, data)
    found = {}
    for name, entry in space.items():
        value = getattr(options, name)
        held = value in entry.values if isinstance(entry, Choice) else (
            isinstance(value, (int, float)) and entry.low <= value <= entry.high)
        if value is not None and held:
            found[name] = value
    return found


def _check_space(space: Space, base: TrainOptions, data: Labelled) -> None:
    """Each value a trial may take, alone over the fixed options, is one train takes: refused
    here, before the first trial, not trial after trial."""
    with_defaults(base, data)
    for name, entry in space.items():
        values = entry.values if isinstance(entry, Choice) else (entry.low, entry.high)
        for value in values:
            value = int(value) if getattr(entry, "integer", False) else value
            try:
                with_defaults(replace(base, **{name: value}), data)
            except UsageError as error:
                if "member" in space:  # combinations the member decides (space.suggest)
                    continue
                raise UsageError(f"the search space's {name}: {value!r} is refused: {error}") from None


def _objective(trial, data: Labelled, base: TrainOptions, space: Space, folder: Path) -> float:
    import optuna

    from petclf.training.run import train

    chosen = suggest(trial, space, set(FINE_TUNING))
    options = replace(base, **chosen)

    def prune(row: dict) -> None:
        trial.report(row["valid_loss"], row["epoch"])
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {row['epoch']} (validation loss {row['valid_loss']:.4f})")

    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix="trial-") as scratch:
            report = train(data, options, Path(scratch) / "run", quiet=True, on_epoch=prune)
    except (KeyboardInterrupt, Interrupted):
        trial.set_user_attr("interrupted", True)
        raise KeyboardInterrupt from None
    except PetclfError as error:
        trial.set_user_attr("error", str(error))
        raise
    metrics = report.metrics
    trial.set_user_attr("accuracy", metrics["accuracy"])
    trial.set_user_attr("seconds", round(time.perf_counter() - started, 1))
    return float(metrics["valid_loss"])


def _objective_text(data: Labelled, base: TrainOptions) -> str:
    options = with_defaults(base, data)
    if options.folds > 1:
        return f"out-of-fold validation loss over the {len(data.labels)} training {kind_of(data).name} ({options.folds} folds)"
    return f"validation loss on the {len(data.valid)} held-out {kind_of(data).name} (never a test file)"


def _count(study) -> dict[str, int]:
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    return {"finished": sum(s in _finished() for s in states), "pruned": states.count(TrialState.PRUNED),
            "failed": states.count(TrialState.FAIL), "complete": states.count(TrialState.COMPLETE)}


def _finished() -> tuple:
    from optuna.trial import TrialState

    return TrialState.COMPLETE, TrialState.PRUNED


class _Shown:
    """A row of the live table for each trial this process finishes; a stop when trials keep failing."""

    def __init__(self, board: console.EpochBoard):
        self.board, self.failed = board, 0

    def __call__(self, study, trial) -> None:
        from optuna.trial import TrialState

        best = study.best_trial.number if _count(study)["complete"] else "-"
        error = trial.user_attrs.get("error", "")
        self.board.row({"trial": trial.number, "state": trial.state.name.lower(),
                        "valid_loss": trial.value if trial.state == TrialState.COMPLETE else "-",
                        "accuracy": trial.user_attrs.get("accuracy", "-"), "best": best,
                        "seconds": trial.user_attrs.get("seconds", "-"),
                        "options": " ".join(f"{k}={_shown(v)}" for k, v in trial.params.items()) + f" {error}"})
        self.board.advance()
        self.failed = self.failed + 1 if trial.state == TrialState.FAIL else 0
        if self.failed >= FAILURES_IN_A_ROW:
            raise PetclfError(f"{self.failed} trials in a row failed, the last with: {error}")


def _shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _report(study, folder: Path, url: str, objective: str) -> TuneReport:
    counts = _count(study)
    if not counts["complete"]:
        raise PetclfError(f"no trial of study {study.study_name!r} completed ({counts['pruned']} pruned, "
                          f"{counts['failed']} failed): nothing to choose from")
    best = study.best_trial
    return TuneReport(folder, study.study_name, url, objective,
                      {"trial": best.number, "valid_loss": best.value, "accuracy": best.user_attrs.get("accuracy"),
                       "options": dict(best.params)},
                      counts["complete"], counts["pruned"], counts["failed"])


def _write_outputs(study, folder: Path, base: TrainOptions, report: TuneReport) -> None:
    """best.yaml (what ``petclf train --config`` reads), trials.csv and the plots."""
    import yaml

    from petclf.plots import save_drawn

    fixed = {"arch": base.arch, "seed": base.seed}
    best = {key.replace("_", "-"): value for key, value in {**fixed, **report.best["options"]}.items()}
    header = (f"# petclf tune: trial {report.best['trial']} of study {report.study!r}, {report.objective} "
              f"{report.best['valid_loss']:.4f}\n")
    with atomic_file(folder / BEST) as tmp:
        tmp.write_text(header + yaml.safe_dump(best, sort_keys=False))
    write_csv(folder / TRIALS, [{"trial": t.number, "state": t.state.name.lower(), "valid_loss": t.value,
                                 "accuracy": t.user_attrs.get("accuracy"), "seconds": t.user_attrs.get("seconds"),
                                 "options": json.dumps(t.params), "error": t.user_attrs.get("error", "")}
                                for t in study.get_trials(deepcopy=False)])
    import warnings

    from optuna.exceptions import ExperimentalWarning
    from optuna.visualization import matplotlib as drawn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)  # Optuna's matplotlib plots, since 2.2
        save_drawn(drawn.plot_optimization_history(study, target_name="validation loss"), folder / "history.png")
        varied = any(len({t.params.get(k) for t in study.trials}) > 1 for k in report.best["options"])
        if report.finished >= 2 and varied:
            save_drawn(drawn.plot_param_importances(study, target_name="validation loss"), folder / "importances.png")
