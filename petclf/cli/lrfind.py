"""``petclf lr-find``: fastai's learning-rate finder on the data train would use."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import app
from petclf.cli._data import Bs, Data, Size, Valid, ValidPct
from petclf.cli.options import (
    ArchName,
    Colormap,
    CsvLabels,
    Device,
    Fit,
    GafMethod,
    GafScaling,
    Json,
    LabelCol,
    LabelRe,
    Lengths,
    OldCsvLabels,
    Pets,
    Pretrained,
    Quiet,
    Scaling,
    Seed,
    WeightsFile,
    Workers,
    at_least,
)
from petclf.training.source import load, source_of


@app.command("lr-find", epilog="[bold]Examples[/]\n\n"
                               "  petclf lr-find samples/digits --arch tf_efficientnet_lite0 --size 64 --bs 16\n\n"
                               "  petclf lr-find GunPoint_TRAIN.tsv --arch tf_efficientnet_lite0\n\n"
                               "  petclf lr-find photos --arch convnext_tiny --json")
def lr_find(
    data: Data,
    arch: ArchName = "resnet34",
    pretrained: Pretrained = True,
    weights: WeightsFile = None,
    size: Size = None,
    bs: Bs = None,
    iters: Annotated[int, typer.Option(callback=at_least(30),
                                       help="Mini-batches to try, with rising learning rates.")] = 100,
    valid: Valid = None,
    valid_pct: ValidPct = 0.2,
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    old_csv: OldCsvLabels = None,
    label_col: LabelCol = "0",
    lengths: Lengths = Fit.pad,
    method: GafMethod = None,
    scaling: GafScaling = Scaling.series,
    colormap: Colormap = "viridis",
    seed: Seed = 42,
    device: Device = "auto",
    workers: Workers = 0,
    plot: Annotated[Path, typer.Option(help="Where to save the loss-vs-learning-rate plot.")]
    = Path("lr_find.png"),
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Run fastai's learning-rate finder and print its suggestions, and the rate train would use on the same data.

    That is the valley suggestion for photographs; thumbnails and series have a default rate of their own, which the plot marks beside the curve.
    """
    from petclf.training.lrfinder import SUGGESTIONS
    from petclf.training.recipe import TrainOptions
    from petclf.training.run import lr_find as find

    source = source_of(data, valid, valid_pct, label_re, pets, csv or old_csv, label_col,
                           lengths.value)
    labelled = load(source, seed, quiet or json_)
    options = TrainOptions(arch, pretrained, weights, size=size, bs=bs, seed=seed, device=device,
                           workers=workers, precision="fp32", lr_find_iters=iters, method=method,
                           colormap=colormap, scaling=scaling.value)
    finding = find(labelled, options, plot=plot, quiet=quiet or json_)
    if json_:
        console.print_json({**finding.suggestions, "train_lr": finding.train_lr,
                            "train_lr_source": finding.train_lr_source, "plot": str(plot)})
        return
    console.table("learning-rate suggestions", ["method", "learning rate"],
                  [[name, f"{finding.suggestions[name]:.2e}"] for name in SUGGESTIONS])
    console.result(f"train uses {finding.train_lr:.2e} ({finding.train_lr_source}; set it with --lr)")
    console.result(f"plot: {plot}")
