"""The command line: parse options, call one library function, print its result.

Every error ends here as one line on stderr and an exit code: 2 for a wrong command line
(option, path, refusal to overwrite), 1 for a failure, 130 for Ctrl-C. ``--debug`` (or
``PETCLF_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from petclf import __version__, console
from petclf.errors import PetclfError


@dataclass
class _Settings:
    debug: bool = bool(os.environ.get("PETCLF_DEBUG"))


class _ReportingGroup(TyperGroup):
    """Runs a command and turns whatever it raises into one line and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        settings = _Settings()
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, obj=settings, **extra)
            code = 0
        except typer.Exit as done:
            code = done.exit_code
        except typer.TyperException as error:  # Typer's (vendored click's) usage errors
            code = _report(error.format_message(), error.exit_code, settings.debug)
        except PetclfError as error:
            code = _report(str(error), error.exit_code, settings.debug)
        except (KeyboardInterrupt, typer.Abort):
            code = _report("interrupted", 130, settings.debug)
        except Exception as error:  # the last resort: a bug, or an error we did not foresee
            code = _report(f"unexpected {type(error).__name__}: {error} "
                           "(run `petclf --debug ...` to see where)", 1, settings.debug)
        if standalone_mode:
            sys.exit(code)
        return code


def _report(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    console.error(message)
    return code


app = typer.Typer(
    cls=_ReportingGroup,
    help="Transfer learning with fastai from the command line.\n\n"
         "Turn time series into images with [bold]petclf tsimage[/]; "
         "every command has its own --help with examples.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        console.result(f"petclf {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (also PETCLF_DEBUG=1).")] = False,
) -> None:
    ctx.obj.debug = ctx.obj.debug or debug
    if ctx.invoked_subcommand is None:
        console.result(ctx.get_help())


class Method(str, Enum):
    gadf = "gadf"
    gasf = "gasf"


class Split(str, Enum):
    train = "train"
    valid = "valid"


class ImageFormat(str, Enum):
    png = "png"
    npy = "npy"


@app.command(epilog="[bold]Examples[/]\n\n"
                    "  petclf tsimage GunPoint_TRAIN.tsv gunpoint --split train\n\n"
                    "  petclf tsimage GunPoint_TEST.tsv gunpoint --split valid\n\n"
                    "  petclf tsimage readings.csv images --label-col sensor --method gasf --size 64\n\n"
                    "Then: petclf train gunpoint")
def tsimage(
    input: Annotated[Path, typer.Argument(metavar="INPUT", show_default=False,
                                          help="Series file: .tsv/.txt (UCR), .csv, .npy/.npz or .ts.")],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", show_default=False,
                                            help="Folder for the images, one sub-folder per class.")],
    method: Annotated[Method, typer.Option(help="Gramian angular [b]d[/]ifference or [b]s[/]ummation field.")]
    = Method.gadf,
    size: Annotated[int, typer.Option(help="Image side in pixels: longer series are averaged down "
                                           "(PAA), shorter ones interpolated up.")] = 128,
    split: Annotated[Optional[Split], typer.Option(help="Write under OUT_DIR/train or OUT_DIR/valid, "
                                                        "so a _TRAIN/_TEST pair becomes one dataset.")]
    = None,
    colormap: Annotated[str, typer.Option(help="Any matplotlib colormap, or 'gray'.")] = "viridis",
    image_format: Annotated[ImageFormat, typer.Option("--format", help="png images, or npy float32 "
                                                      "fields of shape (channels, size, size).")]
    = ImageFormat.png,
    label_col: Annotated[str, typer.Option(help="Label column of a .tsv/.txt/.csv: index or header name.")]
    = "0",
    no_labels: Annotated[bool, typer.Option("--no-labels", help="The text file has no label column.")]
    = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty output folder.")]
    = False,
    workers: Annotated[Optional[int], typer.Option(help="Writer threads \\[default: all cores].",
                                                   show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")] = False,
) -> None:
    """Turn time series into Gramian angular field images that [bold]petclf train[/] reads.

    Each series becomes OUT_DIR/<label>/<row>.png (flat when unlabelled), scaled to [-1, 1] on its own, beside a manifest.csv (source row, file, label, split) and a preview.png.

    A series with several channels gets one field per channel, tiled into a near-square grid (channel 0 top left).
    """
    from petclf.series import read_series
    from petclf.tsimage import FieldOptions, write_tsimages

    series = read_series(input, label_col=None if no_labels else label_col)
    options = FieldOptions(method=method.value, size=size, colormap=colormap)
    report = write_tsimages(series, out_dir, options, fmt=image_format.value,
                            split=split.value if split else None, overwrite=overwrite,
                            workers=workers, quiet=quiet or json_)
    summary = {"folder": str(report.folder), "images": report.n_images, "classes": report.class_counts,
               "method": options.method, "size": options.size, "format": image_format.value,
               "channels": int(series.X.shape[1]), "manifest": str(report.manifest),
               "preview": str(report.preview)}
    if json_:
        console.print_json(summary)
        return
    classes = f" in {len(report.class_counts)} classes" if report.class_counts else ""
    console.result(f"Wrote {report.n_images} {options.method.upper()} images{classes} to {report.folder}")
    console.result(f"manifest: {report.manifest}\npreview:  {report.preview}")


def main() -> None:
    # Large tensors (GAF batches, activations) on transparent huge pages: PyTorch reads this at
    # its first large allocation. Without it, first-touch page faults cost more than the GADF
    # maths itself (0.64 s vs 0.16 s for 1000 fields of 570 x 570 on a 2-core machine).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    app()
