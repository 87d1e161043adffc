"""``petclf tsimage``: series files to GAF images on disk."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import app
from petclf.cli.options import Colormap, Fit, GafMethod, Json, LabelCol, Lengths, NoLabels, at_least
from petclf.training.source import LENGTHS_DONE


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
                    "Then: petclf train gunpoint  (or train on the series directly: petclf train GunPoint_TRAIN.tsv)")
def tsimage(
    input: Annotated[Path, typer.Argument(metavar="INPUT", show_default=False,
                                          help="Series file: .tsv/.txt (UCR), .csv, .npy/.npz or .ts.")],
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", show_default=False,
                                            help="Folder for the images, one sub-folder per class.")],
    method: GafMethod = "gadf",
    size: Annotated[int, typer.Option(help="Image side in pixels: longer series are averaged down "
                                           "(PAA), shorter ones interpolated up.")] = 128,
    split: Annotated[Split | None, typer.Option(help="Write under OUT_DIR/train or OUT_DIR/valid, "
                                                        "so a _TRAIN/_TEST pair becomes one dataset.")]
    = None,
    colormap: Colormap = "viridis",
    image_format: Annotated[ImageFormat, typer.Option("--format", help="png images, or npy float32 "
                                                      "fields of shape (channels, size, size).")]
    = ImageFormat.png,
    label_col: LabelCol = "0",
    lengths: Lengths = Fit.pad,
    no_labels: NoLabels = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty output folder.")]
    = False,
    workers: Annotated[int | None, typer.Option(help="Writer threads \\[default: all cores].",
                                                   show_default=False, callback=at_least(1))] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    json_: Json = False,
) -> None:
    """Turn time series into Gramian angular field images that [bold]petclf train[/] reads.

    Each series becomes OUT_DIR/<label>/<row>.png (flat when unlabelled), scaled to [-1, 1] on its own, beside a manifest.csv (source row, file, label, split); a preview.png shows a few of each class, with the colour scale (with --split: OUT_DIR/preview-<split>.png, outside the split's folder).

    A series with several channels gets one field per channel, tiled into a near-square grid (channel 0 top left).
    """
    from petclf.series.fields import Imaging
    from petclf.series.readers import read_series
    from petclf.series.tsimage import write_tsimages

    series = read_series(input, label_col=None if no_labels else label_col, fit=lengths.value)
    if series.uneven and not (quiet or json_):
        console.note(f"{input}: series of different lengths (or with gaps) {LENGTHS_DONE[lengths.value]} "
                     f"{series.X.shape[-1]} values")
    imaging = Imaging(method=method, size=size, colormap=colormap)
    report = write_tsimages(series, out_dir, imaging, fmt=image_format.value,
                            split=split.value if split else None, overwrite=overwrite,
                            workers=workers, quiet=quiet or json_)
    summary = {"folder": str(report.folder), "images": report.n_images, "classes": report.class_counts,
               "method": imaging.method, "size": imaging.size, "format": image_format.value,
               "channels": int(series.X.shape[1]), "manifest": str(report.manifest),
               "preview": str(report.preview)}
    if json_:
        console.print_json(summary)
        return
    classes = f" in {len(report.class_counts)} classes" if report.class_counts else ""
    console.result(f"Wrote {report.n_images} {imaging.method.upper()} images{classes} to {report.folder}")
    console.result(f"manifest: {report.manifest}\npreview:  {report.preview}")
