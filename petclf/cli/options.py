"""Options that several commands share, declared once as ``Annotated`` types."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


GafMethod = Annotated[str, typer.Option(help=(
    "How a series becomes an image: one field coloured with --colormap, gadf or gasf (Gramian angular "
    "difference or summation field), mtf (Markov transition field) or rp (recurrence plot); or three "
    "joined with '+' as the red, green and blue channels, e.g. gasf+gadf+mtf."))]


class Scaling(str, Enum):
    series = "series"
    dataset = "dataset"


GafScaling = Annotated[Scaling, typer.Option(help="How values become angles: each series min-max scaled "
                                                  "on its own (the GAF paper, pyts), or every series with "
                                                  "the training set's min and max per channel, which keeps "
                                                  "amplitude.")]
Colormap = Annotated[str, typer.Option(help="Any matplotlib colormap, or 'gray'.")]
LabelCol = Annotated[str, typer.Option(help="Label column of a .tsv/.txt/.csv series file: index or header name.")]
NoLabels = Annotated[bool, typer.Option("--no-labels", help="The text file has no label column.")]
ArchName = Annotated[str, typer.Option(help="torchvision or timm model name; 'timm:NAME' when both have it.")]
Pretrained = Annotated[bool, typer.Option("--pretrained/--no-pretrained", help="Start from pretrained weights.")]
WeightsFile = Annotated[Optional[Path], typer.Option("--weights", help="Pretrained weights file (.safetensors "
                                                     "or .pth state dict) instead of the caches or a download.")]
Batch = Annotated[int, typer.Option("--bs", help="Batch size.")]
Seed = Annotated[int, typer.Option(help="Random seed (split, augmentation, head).")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")]
Workers = Annotated[int, typer.Option(help="Data-loading processes (0: in the main process).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]
ModelPath = Annotated[Path, typer.Argument(metavar="MODEL", show_default=False,
                                           help="A run folder or its model.safetensors.")]
ModelOrExport = Annotated[Path, typer.Argument(metavar="MODEL", show_default=False, help=(
    "A run folder, its model.safetensors, or an .onnx file from petclf export."))]
