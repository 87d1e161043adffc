"""The command line: parse options, call one library function, print its result.

Every error ends here as one line on stderr and an exit code: 2 for a wrong command line
(option, path, refusal to overwrite), 1 for a failure, 130 for Ctrl-C. ``--debug`` (or
``PETCLF_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
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
            returned = super().main(args, prog_name, complete_var, standalone_mode=False, obj=settings, **extra)
            code = returned if isinstance(returned, int) else 0  # click returns typer.Exit's code here
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
         "[bold]petclf train[/] fine-tunes a pretrained backbone on labelled images, "
         "[bold]petclf predict image[/] classifies with the result, and "
         "[bold]petclf tsimage[/] turns time series into images to train on. "
         "Every command has its own --help with examples.",
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


# Options shared by train and lr-find: declared once, used by both signatures.
DataDir = Annotated[Path, typer.Argument(metavar="DATA", show_default=False, help=(
    "Folder of images: DATA/<label>/<image>, or DATA/train/<label>/… + DATA/valid/<label>/… "
    "(what tsimage --split writes)."))]
ValidPct = Annotated[float, typer.Option(help="Share of the images held out for validation "
                                              "(unless DATA/valid exists).")]
LabelRe = Annotated[Optional[str], typer.Option(help="Label = first group of this regex on each file name, "
                                                     r"e.g. '^(.*)_\\d+\\.jpg$'.")]
Pets = Annotated[bool, typer.Option("--pets", help="The fast.ai book's Oxford-IIIT Pets rule: a file name "
                                                   "starting upper-case is a cat, else a dog.")]
CsvLabels = Annotated[Optional[Path], typer.Option("--csv", help="CSV with a header row: file (relative "
                                                                 "to DATA), label.")]
ArchName = Annotated[str, typer.Option(help="torchvision or timm model name; 'timm:NAME' when both have it.")]
Pretrained = Annotated[bool, typer.Option("--pretrained/--no-pretrained", help="Start from pretrained "
                                                                                "weights.")]
WeightsFile = Annotated[Optional[Path], typer.Option("--weights", help="Pretrained weights file "
                                                     "(.safetensors or .pth state dict) instead of the "
                                                     "caches or a download.")]
Size = Annotated[int, typer.Option(help="Image side in pixels.")]
Batch = Annotated[int, typer.Option("--bs", help="Batch size.")]
Seed = Annotated[int, typer.Option(help="Random seed (split, augmentation, head).")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")]
Workers = Annotated[int, typer.Option(help="Data-loading processes (0: in the main process).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes.")]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")]


def _find_images(data: Path, csv: Optional[Path], label_re: Optional[str], pets: bool,
                 valid_pct: float, seed: int, quiet: bool):
    from petclf.data import LabelSource, find_images

    images = find_images(data, LabelSource(csv, label_re, pets), valid_pct, seed)
    if not quiet and images.skipped:
        console.note(f"skipped {images.skipped} file(s) that are not images or have no label")
    for path in images.unreadable if not quiet else []:
        console.note(f"{path}: unreadable image, left out")
    return images


@app.command(epilog="[bold]Examples[/]\n\n"
                    "  petclf train samples/digits --arch tf_efficientnet_lite0 --size 64 --bs 16 --epochs 5\n\n"
                    "  petclf train pets/images --pets --early-stop 2 --out runs/pets\n\n"
                    "  petclf train gunpoint --arch resnet18 --no-pretrained --lr 1e-3\n\n"
                    "Then: petclf predict image runs/pets some_photo.jpg")
def train(
    data: DataDir,
    arch: ArchName = "resnet34",
    pretrained: Pretrained = True,
    weights: WeightsFile = None,
    epochs: Annotated[int, typer.Option(help="Epochs with all layers training (after the frozen ones).")] = 1,
    freeze_epochs: Annotated[int, typer.Option(help="Epochs with only the new head training.")] = 1,
    lr: Annotated[Optional[float], typer.Option(help="Learning rate \\[default: the lr-find valley "
                                                     "suggestion].", show_default=False)] = None,
    size: Size = 224,
    bs: Batch = 64,
    augment: Annotated[bool, typer.Option("--aug/--no-aug", help="fastai aug_transforms while training.")]
    = True,
    early_stop: Annotated[Optional[int], typer.Option(help="Stop after this many epochs without a "
                                                           "lower validation loss.")] = None,
    valid_pct: ValidPct = 0.2,
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    seed: Seed = 42,
    device: Device = "auto",
    precision: Annotated[str, typer.Option(help="auto (fp16 on a GPU, fp32 on the CPU), fp32, fp16, bf16.")]
    = "auto",
    workers: Workers = 0,
    out: Annotated[Optional[Path], typer.Option(help="Run folder \\[default: runs/<date-time>].",
                                                show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty run folder.")] = False,
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Fine-tune a pretrained backbone on labelled images (fast.ai chapter 1 as one command).

    One epoch trains the new head with the backbone frozen, then --epochs train every layer; the epoch with the lowest validation loss is kept. The run folder gets model.safetensors (all [bold]petclf predict[/] needs), history.csv, metrics.json, valid_predictions.csv, confusion_matrix.png, lr_find.png and args.json.
    """
    import datetime

    from petclf.train import TrainOptions, train as run_training

    images = _find_images(data, csv, label_re, pets, valid_pct, seed, quiet or json_)
    options = TrainOptions(arch, pretrained, weights, epochs, freeze_epochs, lr, size, bs, augment,
                           early_stop, seed, device, precision, workers)
    folder = out or Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = run_training(images, options, folder, overwrite=overwrite, quiet=quiet or json_)
    metrics = report.metrics
    if json_:
        console.print_json({"folder": str(report.folder), **metrics})
        return
    console.result(f"accuracy {metrics['accuracy']:.4f}, error rate {metrics['error_rate']:.4f}, "
                   f"valid loss {metrics['valid_loss']:.4f} (best epoch {metrics['best_epoch']} of "
                   f"{metrics['epochs']}), {metrics['train_images_per_second']} images/s")
    console.result(f"run folder: {report.folder}  (model: {report.folder / 'model.safetensors'})")


@app.command("lr-find", epilog="[bold]Examples[/]\n\n"
                               "  petclf lr-find samples/digits --arch tf_efficientnet_lite0 --size 64 --bs 16\n\n"
                               "  petclf lr-find photos --arch convnext_tiny --json")
def lr_find(
    data: DataDir,
    arch: ArchName = "resnet34",
    pretrained: Pretrained = True,
    weights: WeightsFile = None,
    size: Size = 224,
    bs: Batch = 64,
    iters: Annotated[int, typer.Option(min=30, help="Mini-batches to try, with rising learning rates.")] = 100,
    valid_pct: ValidPct = 0.2,
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    seed: Seed = 42,
    device: Device = "auto",
    workers: Workers = 0,
    plot: Annotated[Path, typer.Option(help="Where to save the loss-vs-learning-rate plot.")]
    = Path("lr_find.png"),
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Run fastai's learning-rate finder and print its suggestions (valley is what train uses)."""
    from petclf.train import SUGGESTIONS, TrainOptions, lr_find as find

    images = _find_images(data, csv, label_re, pets, valid_pct, seed, quiet or json_)
    options = TrainOptions(arch, pretrained, weights, size=size, bs=bs, seed=seed, device=device,
                           workers=workers, precision="fp32", lr_find_iters=iters)
    finding = find(images, options, plot=plot, quiet=quiet or json_)
    if json_:
        console.print_json({**finding.suggestions, "plot": str(plot)})
        return
    console.table("learning-rate suggestions", ["method", "learning rate"],
                  [[name, f"{finding.suggestions[name]:.2e}"] for name in SUGGESTIONS])
    console.result(f"plot: {plot}")


predict_app = typer.Typer(help="Classify with a trained model.", invoke_without_command=True,
                          rich_markup_mode="rich")
app.add_typer(predict_app, name="predict")


@predict_app.callback()
def _predict(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        console.result(ctx.get_help())


@predict_app.command("image", epilog="[bold]Examples[/]\n\n"
                                     "  petclf predict image runs/digits samples/digits/3\n\n"
                                     "  petclf predict image runs/pets/model.safetensors cat.jpg --top-k 3 --json")
def predict_image(
    model: Annotated[Path, typer.Argument(metavar="MODEL", show_default=False,
                                          help="A run folder or its model.safetensors.")],
    files: Annotated[list[Path], typer.Argument(metavar="FILES_OR_DIRS...", show_default=False,
                                                help="Images, or folders searched recursively.")],
    bs: Batch = 64,
    top_k: Annotated[int, typer.Option(help="How many classes to show per image.")] = 1,
    device: Device = "auto",
    quiet: Quiet = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per image.")] = False,
) -> None:
    """Classify images with a trained model; an unreadable image is reported and the rest go on (exit 1 if any failed)."""
    from petclf.predict import image_files, load_classifier, predict_images

    images = image_files(files)
    classifier = load_classifier(model, device)
    with console.progress("predict", total=len(images), unit="images", quiet=quiet or json_) as advance:
        predictions = predict_images(classifier, images, bs=bs, top_k=top_k, advance=advance)
    failed = [p for p in predictions if p.error]
    if json_:
        console.print_json([{"file": str(p.file), "error": p.error} if p.error else
                            {"file": str(p.file), "label": p.top[0][0], "probability": p.top[0][1],
                             "top": [{"label": label, "probability": q} for label, q in p.top]}
                            for p in predictions])
    else:
        console.table("predictions", ["file", "label", "probability"] + (["top"] if top_k > 1 else []),
                      [[p.file, p.top[0][0], f"{p.top[0][1]:.4f}"] +
                       ([", ".join(f"{label} {q:.3f}" for label, q in p.top)] if top_k > 1 else [])
                       for p in predictions if not p.error])
    for prediction in failed:
        console.error(prediction.error)
    if failed:
        raise typer.Exit(1)


def main() -> None:
    # Large tensors (GAF batches, activations) on transparent huge pages: PyTorch reads this at
    # its first large allocation. Without it, first-touch page faults cost more than the GADF
    # maths itself (0.64 s vs 0.16 s for 1000 fields of 570 x 570 on a 2-core machine).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    # Deprecation notices raised while fastai imports (torch.jit.script, pandas options) are
    # for fastai's developers, not petclf's users.
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", module=r"fastai\.")
    app()
