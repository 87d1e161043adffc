"""``petclf explain``."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.atomic import atomic_dir
from petclf.cli._app import app
from petclf.cli.options import Device, Json, ModelPath, NoLabels, Quiet, at_least
from petclf.errors import UsageError


@app.command("explain", epilog="[bold]Examples[/]\n\n"
                               "  petclf explain runs/digits samples/digits/3/0003.png\n\n"
                               "  petclf explain runs/pets photo.jpg --class cat --out cams\n\n"
                               "  petclf explain runs/gunpoint GunPoint_TEST.tsv --rows 5")
def explain(
    model: ModelPath,
    files: Annotated[list[Path], typer.Argument(metavar="FILES", show_default=False, help=(
        "Images or folders of them; for a series model, one series file."))],
    class_: Annotated[str | None, typer.Option("--class", show_default=False, help=(
        "The class to explain \\[default: each item's prediction]."))] = None,
    rows: Annotated[int, typer.Option(help="Series: explain the first N rows of the file.", metavar="N",
                                      callback=at_least(1))] = 8,
    no_labels: NoLabels = False,
    device: Device = "auto",
    out: Annotated[Path, typer.Option(help="Folder for the heat-maps, one <name>-cam.png per input.")]
    = Path("explain"),
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out folder.")] = False,
    quiet: Quiet = False,
    json_: Json = False,
) -> None:
    """Show where the model looked: a Grad-CAM heat-map over each input, for its predicted class or --class.

    The heat-maps go to the --out folder, written whole or not at all; a folder that is not empty is refused unless --overwrite.

    For a series model the map lies over the field image the model saw, and is also folded back onto the time axis and drawn over the series' curve.
    """
    from petclf.inference import load_torch

    if model.suffix == ".onnx":
        raise UsageError(f"{model}: explain needs the model file (.safetensors); an ONNX export has no gradients")
    classifier = load_torch(model, device)
    with atomic_dir(out, overwrite) as folder:  # all the heat-maps or none, and no old ones mixed in
        if classifier.meta.input == "series":
            written = _series(classifier, files, class_, rows,
                              None if no_labels else classifier.meta.series.label_col, folder)
        else:
            written = _images(classifier, files, class_, folder)
    for row in written:
        row["heat_map"] = str(out / Path(row["heat_map"]).relative_to(folder))
    _say_resolution(written, quiet or json_)
    if json_:
        console.print_json(written)
    elif not quiet:
        console.table("explained", ["file", "class", "probability", "heat-map"],
                      [[w["item"], w["class"], f"{w['probability']:.4f}", w["heat_map"]] for w in written])


def _say_resolution(written: list[dict], quiet: bool) -> None:
    from petclf.evaluation.explain import FINE_MAP

    if written and not quiet:
        height, width = written[0]["map_size"]
        coarse = min(height, width) < FINE_MAP
        console.note(f"heat-maps from layer {written[0]['layer']} ({height} x {width})"
                     + (f": coarser than {FINE_MAP} x {FINE_MAP} at this image size, they show only roughly where "
                        "the model looked" if coarse else ""))


def _images(classifier, files: list[Path], target: str | None, out: Path) -> list[dict]:
    import numpy as np

    from petclf.evaluation.explain import distinct_names
    from petclf.evaluation.explain import explain as grad_cam
    from petclf.inference import image_files, prepare
    from petclf.plots import save_cam

    written = []
    paths = image_files(files)
    for path, name in zip(paths, distinct_names(paths), strict=True):
        found = grad_cam(classifier, np.stack([prepare(path, classifier.meta.image_size)]), target)
        written.append(_save(found, 0, name, str(path), classifier.meta.classes, out, save_cam))
    return written


def _series(classifier, files: list[Path], target: str | None, rows: int, label_col: str | None,
            out: Path) -> list[dict]:
    from functools import partial

    from petclf.evaluation.explain import explain as grad_cam
    from petclf.evaluation.explain import time_attention
    from petclf.plots import save_cam

    if len(files) != 1:
        raise UsageError("a series model explains one series file at a time")
    series = classifier.meta.series.read(files[0], label_col)
    X = series.X[:rows]
    found = grad_cam(classifier, X, target)
    written = []
    for row in range(len(X)):
        attention = time_attention(found.cams[row], X.shape[1], X.shape[2], classifier.meta.series.imaging.method)
        draw = partial(save_cam, series=X[row], attention=attention)
        written.append(_save(found, row, f"{files[0].stem}-row{row}", f"{files[0]} row {row}",
                             classifier.meta.classes, out, draw))
    return written


def _save(found, i: int, stem: str, item: str, classes: list[str], out: Path, draw) -> dict:
    label, probability = classes[found.target[i]], float(found.probs[i, found.target[i]])
    path = out / f"{stem}-cam.png"
    draw(found.images[i], found.cams[i], f"{item}: {label} ({probability:.2f})", path)
    return {"item": item, "class": label, "probability": probability, "heat_map": str(path), "layer": found.layer,
            "map_size": list(found.map_size)}
