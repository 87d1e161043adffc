"""``petclf tune``: a search over train's options (Optuna) that can stop, resume and share a study."""

import re
from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import app
from petclf.cli._data import Data, Folds, Valid, ValidPct
from petclf.cli.options import (
    ArchName,
    CsvLabels,
    Device,
    Fit,
    Json,
    LabelCol,
    LabelRe,
    Lengths,
    Pets,
    Pretrained,
    Quiet,
    Seed,
    WeightsFile,
    Workers,
    at_least,
)
from petclf.training.source import load, source_of

UNITS = {"s": 1, "m": 60, "h": 3600}
FLAGS = {"augment": ("--aug", "--no-aug")}  # train's switches not named after their option


def _duration(value: str | None) -> float | None:
    """'90', '90s', '30m', '2h' or '1h30m' in seconds."""
    if value is None:
        return None
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)\s*([smh])?\s*)+", value) and re.findall(r"(\d+(?:\.\d+)?)\s*([smh]?)", value)
    if not parts or sum(float(n) for n, _ in parts) <= 0:
        raise typer.BadParameter(f"{value!r} is not a duration such as 90s, 30m or 2h")
    return sum(float(number) * UNITS[unit or "s"] for number, unit in parts)


@app.command("tune", epilog="[bold]Examples[/]\n\n"
                            "  petclf tune samples/digits --arch tf_efficientnet_lite0 --trials 20\n\n"
                            "  petclf tune GunPoint_TRAIN.tsv --arch tf_efficientnet_lite0 --timeout 30m\n\n"
                            "  petclf tune photos --space space.yaml --storage postgresql://host/db --study pets\n\n"
                            "Then: petclf train DATA --config tunes/DATA/best.yaml")
def tune(
    data: Data,
    trials: Annotated[int, typer.Option(metavar="N", callback=at_least(1), help=(
        "Finished trials the study should hold: a study that has some goes on to N."))] = 20,
    timeout: Annotated[str | None, typer.Option(metavar="TIME", show_default=False, help=(
        "Stop starting trials after this long, e.g. 30m, 2h or 90s (the trial in progress finishes)."))] = None,
    space: Annotated[Path | None, typer.Option(metavar="FILE", show_default=False, help=(
        "The search space as YAML or JSON: option: {low, high, log} for a range, a list for choices, a value to "
        "fix it \\[default: one for the data: images, thumbnails or series]."))] = None,
    storage: Annotated[str | None, typer.Option(metavar="URL", show_default=False, help=(
        "The study's database, any Optuna takes (postgresql://…, mysql://…), so that processes on several "
        "machines share one study \\[default: SQLite in the tune folder]."))] = None,
    study: Annotated[str, typer.Option(metavar="NAME", help="The study's name in its database.")] = "petclf",
    arch: ArchName = "resnet34",
    pretrained: Pretrained = True,
    weights: WeightsFile = None,
    valid: Valid = None,
    valid_pct: ValidPct = 0.2,
    folds: Folds = None,
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    label_col: LabelCol = "0",
    lengths: Lengths = Fit.pad,
    seed: Seed = 42,
    device: Device = "auto",
    workers: Workers = 0,
    out: Annotated[Path | None, typer.Option(metavar="DIR", show_default=False, help=(
        "The tune folder: study.db, best.yaml, trials.csv, history.png, importances.png "
        "\\[default: tunes/<DATA's name>]."))] = None,
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Search train's options for the best validation loss on the training data (Optuna), and write best.yaml for petclf train --config.

    Each trial trains as petclf train does and is scored on what train reports: the out-of-fold loss of a small set's ensemble, or the held-out split's, never a test file. Trials that fine-tune are pruned when their validation loss lags the median of earlier trials at the same epoch.

    The study lives in the tune folder (study.db): Ctrl-C loses at most the trial in progress, and the same command goes on from there. Run the same command in several terminals, or on several machines with --storage, and they share the trials until the study has --trials finished.
    """
    from petclf.training.recipe import TrainOptions
    from petclf.tuning.space import read_space, space_for
    from petclf.tuning.study import tune as run_tune

    seconds = _duration(timeout)
    source = source_of(data, valid, valid_pct, label_re, pets, csv, label_col, lengths.value)
    labelled = load(source, seed, quiet or json_)
    searched = read_space(space) if space is not None else space_for(labelled)
    base = TrainOptions(arch, pretrained, weights, seed=seed, device=device, workers=workers, folds=folds)
    folder = out or Path("tunes") / Path(data).stem
    report = run_tune(labelled, base, searched, folder, trials, seconds, storage, study, quiet or json_)
    if json_:
        console.print_json({"folder": str(report.folder), "study": report.study, "storage": report.storage,
                            "objective": report.objective, "best": report.best, "complete": report.finished,
                            "pruned": report.pruned, "failed": report.failed})
        return
    best = report.best
    console.result(f"best: trial {best['trial']}, validation loss {best['valid_loss']:.4f}, accuracy "
                   f"{best['accuracy']:.4f} ({report.finished} complete, {report.pruned} pruned, {report.failed} failed)")
    console.result("  " + " ".join(_as_flag(name, value) for name, value in best["options"].items()))
    console.result(f"tune folder: {report.folder}  (petclf train {data} --config {report.folder / 'best.yaml'})")


def _as_flag(name: str, value) -> str:
    """An option as petclf train takes it on the command line: ``--size 160``, ``--no-aug``."""
    on, off = FLAGS.get(name, (f"--{name.replace('_', '-')}", f"--no-{name.replace('_', '-')}"))
    return (on if value else off) if isinstance(value, bool) else f"{on} {value}"

