"""``petclf train``, on an image folder or a series file."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from petclf import console, inputs
from petclf.cli._app import app
from petclf.cli._data import DATA_HELP, Bs, Folds, I, S, Size, T, Valid, ValidPct
from petclf.cli.config import read_config
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
    within,
)
from petclf.errors import UsageError
from petclf.training.balance import CHOICES as BALANCE_CHOICES
from petclf.training.regularization import OPTIMIZERS
from petclf.training.source import load, source_of

Balance = Enum("Balance", {name: name for name in BALANCE_CHOICES}, type=str)
Optimizer = Enum("Optimizer", {name: name for name in OPTIMIZERS}, type=str)

def _arch_of(model: Path) -> str:
    """The --arch a petclf model was trained with (``source:name``, as find_arch reads it)."""
    from petclf.model.file import read_model

    meta = read_model(model)[1]
    return f"{meta.net.source}:{meta.net.arch}"


# What --resume may change; every other option comes from the run's args.json.
RESUME_MAY_SET = {"resume", "epochs", "device", "workers", "quiet", "json_"}


def _refuse_options_beside_resume(ctx: typer.Context, run: Path) -> None:
    given = [name for name in ctx.params if name not in RESUME_MAY_SET
             and ctx.get_parameter_source(name).name != "DEFAULT"]  # typer's vendored click's enum
    if given:
        names = ", ".join("DATA" if n == "data" else "--" + n.replace("_", "-") for n in given)
        raise UsageError(f"--resume continues {run} with its own data and options; leave out {names}")


@app.command(epilog="[bold]Examples[/]\n\n"
                    "  petclf train samples/digits --arch tf_efficientnet_lite0 --size 64 --bs 16 --epochs 5\n\n"
                    "  petclf train pets/images --pets --early-stop 2 --out runs/pets\n\n"
                    "  petclf train GunPoint_TRAIN.tsv --arch tf_efficientnet_lite0 --out runs/gunpoint\n\n"
                    "  petclf train gunpoint --arch resnet18 --no-pretrained --lr 1e-3\n\n"
                    "  petclf train --resume runs/pets    (after Ctrl-C)\n\n"
                    "  petclf train --resume runs/pets --epochs 3    (3 epochs more)\n\n"
                    "Then: petclf predict image runs/pets some_photo.jpg, or "
                    "petclf predict series runs/gunpoint GunPoint_TEST.tsv")
def train(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Argument(metavar="DATA", show_default=False,
                                                   help=DATA_HELP + " Left out with --resume.")] = None,
    arch: ArchName = "resnet34",
    pretrained: Pretrained = True,
    weights: WeightsFile = None,
    init: Annotated[Path | None, typer.Option(metavar="MODEL", show_default=False, help=(
        "Start from a petclf model (run folder or model file) instead of pretrained weights, to fine-tune it "
        "further or on other classes (the head's last layer is then new). Its --arch is the default."))] = None,
    epochs: Annotated[int | None, typer.Option(
        help=f"Epochs with all layers training, after the frozen ones \\[default: {I.epochs}; "
             f"thumbnails: {T.epochs}; series: {S.epochs}]. With --resume: epochs to add to a finished run.",
        show_default=False, callback=at_least(0))] = None,
    freeze_epochs: Annotated[int, typer.Option(help="Epochs with only the new head training.",
                                               callback=at_least(0))] = 1,
    lr: Annotated[float | None, typer.Option(help="Learning rate \\[default: the lr-find valley "
                                                     f"suggestion; thumbnails: {T.lr:g}; series: {S.lr:g}].",
                                                show_default=False, callback=at_least(0, above=True))] = None,
    lr_mult: Annotated[float | None, typer.Option(help=(
        "After the frozen epochs the backbone trains this many times slower than the head (fastai "
        f"fine_tune's lr_mult) \\[default: {I.lr_mult:g}; thumbnails: {T.lr_mult:g}]. Lower it when your "
        "images look nothing like ImageNet photos."), show_default=False, callback=at_least(0, above=True))] = None,
    size: Size = None,
    bs: Bs = None,
    augment: Annotated[bool | None, typer.Option("--aug/--no-aug", help=(
        "Augment while training: fastai's aug_transforms for images; for series, random windows of the time "
        "axis (no flips or rotations) \\[default: on; off for thumbnails, images under "
        f"{inputs.THUMBNAIL_SIDE} px]."), show_default=False)] = None,
    early_stop: Annotated[int | None, typer.Option(help="Stop after this many epochs without a "
                                                           "lower validation loss.", callback=at_least(1))] = None,
    valid: Valid = None,
    valid_pct: ValidPct = 0.2,
    folds: Folds = None,
    balance: Annotated[Balance | None, typer.Option(help=(
        "For classes of very different sizes: 'weights' weighs each class's loss by the inverse of its size, "
        "'sample' draws training batches in which every class comes up equally often."), show_default=False)]
    = None,
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
    precision: Annotated[str, typer.Option(help="auto (fp16 on a GPU, fp32 on the CPU), fp32, fp16, bf16.")]
    = "auto",
    workers: Workers = 0,
    devices: Annotated[int, typer.Option(metavar="N", callback=at_least(1), help=(
        "Train on N devices, a process each (N GPUs, or sharing the CPU's cores). One model trains data-parallel: "
        "each process takes its share of every epoch's batches, so the batch is N x --bs, and their gradients are "
        "averaged. An ensemble (--folds K) trains its members side by side instead, one a device, each with its "
        "whole --bs."))] = 1,
    wd: Annotated[float | None, typer.Option(callback=at_least(0), show_default=False, help=(
        "Weight decay \\[default: fastai's, 0.01 with Adam]."))] = None,
    dropout: Annotated[float | None, typer.Option(metavar="P", callback=within(0, 0.99), show_default=False, help=(
        "Dropout before the head's last layer (P / 2 before the others) \\[default: fastai's, 0.5]."))] = None,
    label_smoothing: Annotated[float | None, typer.Option(metavar="EPS", callback=within(0, 0.99),
                                                          show_default=False, help=(
        "Label smoothing: the loss aims at 1 - EPS for the true class, not 1."))] = None,
    mixup: Annotated[float | None, typer.Option(metavar="ALPHA", callback=at_least(0, above=True),
                                                show_default=False, help=(
        "fastai's MixUp: train on blends of two items and their labels, the share drawn from Beta(ALPHA, ALPHA) "
        "(0.4 is fastai's)."))] = None,
    cutmix: Annotated[float | None, typer.Option(metavar="ALPHA", callback=at_least(0, above=True),
                                                 show_default=False, help=(
        "fastai's CutMix (images): paste a patch of one image into another, the labels mixed by area."))] = None,
    opt: Annotated[Optimizer | None, typer.Option(metavar="NAME", show_default=False, help=(
        "The optimizer: fastai's adam, sgd (momentum 0.9), rmsprop, lamb or ranger \\[default: adam]."))] = None,
    config: Annotated[Path | None, typer.Option(metavar="FILE", is_eager=True, callback=read_config,
                                                show_default=False, help=(
        "Options from a JSON or YAML file (name: value, as the flags are named); flags given here win. "
        "E.g. the best.yaml petclf tune writes."))] = None,
    member: Annotated[str | None, typer.Option(metavar="KIND", show_default=False, help=(
        "fine-tune: fastai's fine_tune of the pretrained network. ridge (series): the pretrained body frozen and a "
        "ridge classifier on the pooled features of its middle layers, for three images of each series (seg, rp, "
        "gadf), fitted in seconds with its penalty chosen by leave-one-out. \\[default: ridge for series, "
        "fine-tune for images]"))] = None,
    rocket: Annotated[bool | None, typer.Option("--rocket/--no-rocket", show_default=False, help=(
        "A ridge member also reads MiniRocket's features of each series (Dempster et al., 2021) beside the "
        "pretrained body's. \\[default: on for ridge members]"))] = None,
    tensorboard: Annotated[Path | None, typer.Option(metavar="DIR", show_default=False, help=(
        "Log each epoch's losses, metrics and learning rate, and the run's confusion matrix and training batch, "
        "to DIR/<run name> for TensorBoard (tensorboard --logdir DIR)."))] = None,
    callback: Annotated[list[str] | None, typer.Option(metavar="MODULE:NAME", show_default=False, help=(
        "A fastai callback to train with, by import path, made with no arguments; repeatable. E.g. "
        "fastai.callback.wandb:WandbCallback for Weights & Biases (WANDB_MODE=offline keeps it local)."))] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder \\[default: runs/<date-time>].",
                                                show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty run folder.")] = False,
    resume: Annotated[Path | None, typer.Option(
        metavar="RUN", show_default=False, help=(
            "Continue the run that Ctrl-C stopped in folder RUN, from its last completed epoch, with the data and "
            "options it began with (--device and --workers may change). With --epochs N: train a finished run N "
            "epochs more, all layers, from its kept weights."))] = None,
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Fine-tune a pretrained backbone on labelled images or time series (fast.ai chapter 1 as one command).

    One epoch trains the new head with the backbone frozen, then --epochs train every layer; the epoch with the lowest validation loss is kept. The run folder gets model.safetensors (all [bold]petclf predict[/] needs), history.csv and history.png (the training curves), metrics.json, valid_predictions.csv, confusion_matrix.png, reliability.png (calibration), batch.png (a training batch as the model sees it), lr_find.png and args.json.

    On a small training set (below 200 items) it trains 5 models instead, each validated on its own stratified fold, and keeps them all in model.safetensors: predict averages them, and the accuracy reported is out-of-fold, over every training item (--folds sets K; --folds 1 trains one model).

    Ctrl-C stops at once: the run folder then holds the last completed epoch's model (predict can use it) and a checkpoint; --resume RUN finishes the run. A finished run can go on: --resume RUN --epochs N trains one more cycle of N epochs (each member of an ensemble), and keeps the new epoch with the lowest validation loss if it beats the old.

    A series file is drawn as images (as [bold]petclf tsimage[/] draws them) per batch on the training device, and by default ridge members are fitted on the frozen pretrained body's features of them, in seconds (--member fine-tune, or any of --epochs, --lr, --lr-mult, --early-stop, --aug, fine-tunes instead); --method, --size and --colormap are stored in the model. Every model keeps a temperature that calibrates its probabilities, fitted on its held-out predictions (reliability.png).
    """
    import datetime

    from petclf.training.distributed import follows
    from petclf.training.recipe import TrainOptions
    from petclf.training.run import train as run_training

    quiet = quiet or follows()  # under torchrun, global rank 0 alone speaks
    if resume is not None:
        from petclf.training.resume import resume as resume_run

        _refuse_options_beside_resume(ctx, resume)
        report = resume_run(resume, epochs, device, workers, quiet or json_)
    elif data is None:
        raise UsageError("Missing argument 'DATA' (or --resume RUN).")
    elif epochs == 0 and freeze_epochs == 0:
        raise UsageError("--epochs 0 with --freeze-epochs 0 trains nothing")
    else:
        if init is not None and ctx.get_parameter_source("arch").name == "DEFAULT":
            arch = _arch_of(init)
        source = source_of(data, valid, valid_pct, label_re, pets, csv or old_csv, label_col,
                           lengths.value)
        labelled = load(source, seed, quiet or json_)
        options = TrainOptions(arch, pretrained, weights, epochs, freeze_epochs, lr, lr_mult, size, bs, augment,
                               early_stop, seed, device, precision, workers, method=method,
                               colormap=colormap, scaling=scaling.value, folds=folds,
                               balance=balance and balance.value, init=init, devices=devices,
                               tensorboard=tensorboard, callbacks=tuple(callback or ()), member=member, wd=wd,
                               dropout=dropout, label_smoothing=label_smoothing, mixup=mixup, cutmix=cutmix,
                               opt=opt and opt.value, rocket=rocket)
        folder = out or Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        report = run_training(labelled, options, folder, overwrite=overwrite, quiet=quiet or json_, source=source)
    metrics = report.metrics
    if follows():
        return
    if json_:
        console.print_json({"folder": str(report.folder), **metrics})
        return
    kind = "series" if metrics["input"] == "series" else "images"
    if "folds" in metrics:
        how = (f"out-of-fold: each of the {metrics[f'valid_{kind}']} {kind} predicted by the one of "
               f"{metrics['folds']} models that did not train on it")
    else:
        how = f"best epoch {metrics['best_epoch']} of {metrics['epochs']}"
    console.result(f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
                   f"error rate {metrics['error_rate']:.4f}, "
                   f"valid loss {metrics['valid_loss']:.4f} ({how}), {metrics[f'train_{kind}_per_second']} {kind}/s")
    console.result(f"run folder: {report.folder}  (model: {report.folder / 'model.safetensors'})")
