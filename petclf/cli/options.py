"""Options that several commands share, declared once as ``Annotated`` types, and the checks
that numbers on the command line get before anything runs."""

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.errors import UsageError
from petclf.inputs import LABEL_RE_EXAMPLE


def at_least(low: float, above: bool = False) -> Callable:
    """A Typer callback refusing a value below ``low`` (with ``above``, also ``low`` itself) in
    one line that names the option: a batch of 0 or a learning rate of -1 would otherwise fail
    deep inside torch, or train nothing without a word."""
    def check(param: typer.CallbackParam, value):
        if value is not None and (value <= low if above else value < low):
            bound = f"above {low:g}" if above else f"at least {low:g}"
            raise UsageError(f"{param.opts[0]} must be {bound} (got {value:g})")
        return value
    return check


def within(low: float, high: float) -> Callable:
    """A Typer callback refusing a value outside ``[low, high]``, as ``at_least`` does."""
    def check(param: typer.CallbackParam, value):
        if value is not None and not low <= value <= high:
            raise UsageError(f"{param.opts[0]} must be between {low:g} and {high:g} (got {value:g})")
        return value
    return check


def one_format(**chosen: bool) -> None:
    """Refuse two output formats at once (``--json --csv`` printed JSON without a word)."""
    given = [name for name, on in chosen.items() if on]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} print different formats: choose one")


GafMethod = Annotated[str | None, typer.Option(show_default=False, help=(
    "How a series becomes an image: one field coloured with --colormap, gadf or gasf (Gramian angular "
    "difference or summation field), mtf (Markov transition field), rp (recurrence plot) or seg (the series "
    "itself cut into sqrt(length) segments stacked as rows: every value of a long series kept); three "
    "joined with '+' as the red, green and blue channels, e.g. gasf+gadf+mtf; or several joined with ',' as "
    "views side by side, e.g. seg,rp,gadf. \\[default: gadf; seg,rp,gadf with --member ridge]"))]


class Scaling(str, Enum):
    series = "series"
    dataset = "dataset"


GafScaling = Annotated[Scaling, typer.Option(metavar="HOW", help=(
    "How values become angles: 'series', each series min-max scaled on its own (the GAF paper, pyts), or "
    "'dataset', every series with the training set's min and max per channel, which keeps amplitude."))]
class Fit(str, Enum):
    pad = "pad"
    resample = "resample"


Lengths = Annotated[Fit, typer.Option(help=(
    "Series of different lengths: 'pad' them with zeros at their end to the longest (their duration stays "
    "in the picture), or 'resample' each to it (only their shape does). Longer ones met in predicting are "
    "resampled down."))]
Colormap = Annotated[str, typer.Option(help="Any matplotlib colormap, or 'gray'.")]
LabelRe = Annotated[str | None, typer.Option(help="Label = first group of this regex on each file name, "
                                                     f"e.g. {LABEL_RE_EXAMPLE}.")]
Pets = Annotated[bool, typer.Option("--pets", help="The fast.ai book's Oxford-IIIT Pets rule: a file name "
                                                   "starting upper-case is a cat, else a dog.")]
CsvLabels = Annotated[Path | None, typer.Option("--labels-csv", metavar="FILE", show_default=False, help=(
    "CSV with a header row: file (relative to DATA), label."))]


def _renamed_csv(param: typer.CallbackParam, value: Path | None) -> Path | None:
    if value is not None:
        console.note("--csv FILE is now --labels-csv FILE (predict's --csv prints CSV)")
    return value


# The label file's old spelling, which clashed with predict's --csv (print CSV): still read, with a note.
OldCsvLabels = Annotated[Path | None, typer.Option("--csv", hidden=True, callback=_renamed_csv)]
LabelCol = Annotated[str, typer.Option(help="Label column of a .tsv/.txt/.csv series file: index or header name.")]
NoLabels = Annotated[bool, typer.Option("--no-labels", help="The text file has no label column.")]
ArchName = Annotated[str, typer.Option(help="torchvision or timm model name; 'timm:NAME' when both have it.")]
Pretrained = Annotated[bool, typer.Option("--pretrained/--no-pretrained", help=(
    "Start from pretrained weights: torchvision's or timm's (downloaded once, then cached); "
    "tf_efficientnet_lite0's ship in a package and need no network."))]
WeightsFile = Annotated[Path | None, typer.Option("--weights", help="Pretrained weights file (.safetensors "
                                                     "or .pth state dict) instead of the caches or a download.")]
Batch = Annotated[int, typer.Option("--bs", callback=at_least(1), help="Batch size.")]
Seed = Annotated[int, typer.Option(callback=at_least(0), help="Random seed (split, augmentation, head).")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")]
Workers = Annotated[int, typer.Option(callback=at_least(0), help="Data-loading processes (0: in the main process).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]
ModelPath = Annotated[Path, typer.Argument(metavar="MODEL", show_default=False,
                                           help="A run folder or its model.safetensors.")]
ModelOrExport = Annotated[Path, typer.Argument(metavar="MODEL", show_default=False, help=(
    "A run folder, its model.safetensors, or an .onnx file from petclf export."))]
MinConfidence = Annotated[float | None, typer.Option(callback=within(0, 1), show_default=False, help=(
    "Give the label 'unknown' where the model's probability, calibrated on its held-out items, is below this "
    "(the top classes stay as they are)."))]
Coverage = Annotated[float | None, typer.Option(metavar="P", show_default=False, help=(
    "Also give each item a prediction set: the classes that hold the true one with probability at least P, "
    "e.g. 0.9 (split conformal on the model's held-out predictions; a larger set means a less certain item)."))]
ClassConditional = Annotated[bool, typer.Option("--class-conditional", help=(
    "With --coverage: hold P within every class, not only over all items (for imbalanced classes; needs "
    "P/(1-P) held-out items of each class)."))]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print CSV (a header, then one row per prediction) "
                                                   "instead of a table.")]
OutFile = Annotated[Path | None, typer.Option("--out", metavar="FILE", show_default=False, help=(
    "Also write the predictions to FILE: JSON when it ends in .json, else CSV."))]
