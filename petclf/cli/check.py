"""``petclf check``."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import app
from petclf.cli._data import Data, Valid, ValidPct
from petclf.cli.options import CsvLabels, Fit, Json, LabelCol, LabelRe, Lengths, OldCsvLabels, Pets, Quiet, Seed
from petclf.training.source import read_labelled, source_of


@app.command(epilog="[bold]Examples[/]\n\n"
                    "  petclf check pets/images --pets\n\n"
                    "  petclf check photos --strict --json    (in CI: exit 1 on a problem)\n\n"
                    "  petclf check GunPoint_TRAIN.tsv")
def check(
    data: Data,
    valid: Valid = None,
    valid_pct: ValidPct = 0.2,
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    old_csv: OldCsvLabels = None,
    label_col: LabelCol = "0",
    lengths: Lengths = Fit.pad,
    seed: Seed = 42,
    plot: Annotated[Path, typer.Option(metavar="FILE", help="Where to save a few images of each class.")]
    = Path("check.png"),
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when a problem is found.")] = False,
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Look at a data set before training on it: classes and counts, sizes, unreadable files, duplicates.

    Reads DATA as [bold]petclf train[/] would, with the same labels and the same validation split, and reports each class's training and validation counts; image sizes and modes (series: channels and length); files that cannot be read; identical files, and photographs that look alike (perceptual hashes: the same picture re-encoded or resized); and, worst of all, duplicates across the training and validation split (the validation figure then flatters the model) or under two labels. An image folder also gets a contact sheet of a few images per class (--plot). train prints the same problems before it starts.
    """
    from petclf.training.kinds import kind_of

    source = source_of(data, valid, valid_pct, label_re, pets, csv or old_csv, label_col, lengths.value)
    labelled = read_labelled(source, seed, quiet or json_)
    kind = kind_of(labelled)
    report = kind.check(labelled, str(data))
    sheet = None
    if kind.name == "images":
        from petclf.images.check import save_sheet

        save_sheet(labelled, plot, f"{data}: {len(labelled.labels)} images in {len(labelled.classes)} classes")
        sheet = str(plot)
    if json_:
        console.print_json({**report.as_dict(), "plot": sheet})
    elif not quiet:
        _show(report, sheet)
    if strict and report.problems():
        raise typer.Exit(1)


def _show(report, sheet: str | None) -> None:
    rows = [[label, counts["train"], counts["valid"], counts["train"] + counts["valid"]]
            for label, counts in report.classes.items()]
    total = [sum(row[k] for row in rows) for k in (1, 2, 3)]
    console.table(f"{report.source}: {total[2]} {report.kind} in {len(rows)} classes",
                  ["class", "train", "valid", "total"], [*rows, ["(all)", *total]])
    shapes = report.shapes
    if report.kind == "images":
        width, height = shapes["width"], shapes["height"]
        modes = ", ".join(f"{mode} {n}" for mode, n in shapes["modes"].items())
        console.result(f"sizes: {width['min']}-{width['max']} x {height['min']}-{height['max']} px "
                       f"(median {width['median']} x {height['median']}); modes: {modes}")
    else:
        console.result(f"series: {shapes['channels']} channel(s) x {shapes['length']} values; "
                       f"{shapes['with_missing_values']} with missing values")
    if report.skipped:
        console.result(f"skipped: {report.skipped} file(s) that are not images or have no label")
    problems = report.problems()
    for problem in problems:
        console.result(f"problem: {problem}")
    if not problems:
        console.result("no problems found")
    if sheet:
        console.result(f"samples: {sheet}")
