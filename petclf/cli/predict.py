"""``petclf predict image`` and ``petclf predict series``."""

from pathlib import Path
from typing import Annotated

import typer

from petclf import console
from petclf.cli._app import Commands, app
from petclf.cli._output import UNKNOWN, conformal_limits, emit, note_uncalibrated, set_column, unsure
from petclf.cli.options import (
    AsCsv,
    Batch,
    ClassConditional,
    Coverage,
    Device,
    MinConfidence,
    ModelOrExport,
    ModelPath,
    NoLabels,
    OutFile,
    Quiet,
    at_least,
    one_format,
)

predict_app = Commands(help="Classify with a trained model.", invoke_without_command=True,
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
    model: ModelOrExport,
    files: Annotated[list[Path], typer.Argument(metavar="FILES_OR_DIRS", show_default=False,
                                                help="Images, or folders searched recursively.")],
    bs: Batch = 64,
    top_k: Annotated[int, typer.Option(help="How many classes to show per image.", callback=at_least(1))] = 1,
    tta: Annotated[bool, typer.Option("--tta", help="Test-time augmentation: average the predictions for each "
                                                    "image and its mirror image.")] = False,
    device: Device = "auto",
    min_confidence: MinConfidence = None,
    coverage: Coverage = None,
    class_conditional: ClassConditional = False,
    quiet: Quiet = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per image.")] = False,
    csv: AsCsv = False,
    out: OutFile = None,
) -> None:
    """Classify images with a trained model; an unreadable image is reported and the rest go on (exit 1 if any failed)."""
    from petclf.inference import image_files, load_classifier, predict_images

    one_format(**{"--json": json_, "--csv": csv})
    images = image_files(files)
    classifier = load_classifier(model, device)
    meta = classifier.meta
    limits = conformal_limits(meta, coverage, class_conditional)
    note_uncalibrated(meta, model, quiet or json_ or csv)
    with console.progress("predict", total=len(images), unit="images", quiet=quiet or json_ or csv) as advance:
        predictions = predict_images(classifier, images, bs=bs, top_k=top_k if limits is None else len(meta.classes),
                                     advance=advance, tta=tta)
    failed = [p for p in predictions if p.error]
    rows = [{"file": str(p.file), "error": p.error} if p.error else
            {"file": str(p.file), "label": unsure(p.top[0][0], p.top[0][1], min_confidence),
             "probability": p.top[0][1], "top": [{"label": label, "probability": q} for label, q in p.top[:top_k]],
             **_set_of(meta, dict(p.top), limits)}
            for p in predictions]
    emit(rows, lambda: console.table(
        "predictions", ["file", "label", "probability"] + (["top"] if top_k > 1 else [])
        + ([set_column(coverage)] if limits is not None else []),
        [[r["file"], r["label"], f"{r['probability']:.4f}"] +
         ([", ".join(f"{t['label']} {t['probability']:.3f}" for t in r["top"])] if top_k > 1 else []) +
         ([", ".join(r["set"])] if limits is not None else [])
         for r in rows if "error" not in r]), json_, csv, out)
    for prediction in failed:
        console.error(prediction.error)
    if failed:
        raise typer.Exit(1)


def _set_of(meta, probability: dict[str, float], limits) -> dict:
    """An image's prediction set as a row's "set" (nothing without --coverage)."""
    if limits is None:
        return {}
    import numpy as np

    from petclf.inference import prediction_sets

    return {"set": prediction_sets(meta, np.array([[probability[c] for c in meta.classes]]), limits)[0]}


@predict_app.command("series", epilog="[bold]Examples[/]\n\n"
                                      "  petclf predict series runs/gunpoint GunPoint_TEST.tsv\n\n"
                                      "  petclf predict series runs/motions BasicMotions_TEST.ts --json\n\n"
                                      "  petclf predict series runs/gunpoint new.csv --no-labels")
def predict_series(
    model: ModelPath,
    file: Annotated[Path, typer.Argument(metavar="FILE", show_default=False, help=(
        "Series file (.tsv/.txt/.csv/.npy/.npz/.ts) of the channels and length the model was trained on."))],
    label_col: Annotated[str | None, typer.Option(help=(
        "Label column of a .tsv/.txt/.csv file: index or header name \\[default: the one the model was "
        "trained with]."), show_default=False)] = None,
    no_labels: NoLabels = False,
    bs: Batch = 64,
    tta: Annotated[bool | None, typer.Option("--tta/--no-tta", show_default=False, help=(
        "Test-time augmentation: average the predictions for each series and three 90% windows of it, stretched "
        "back to full length (as training's augmentation does). On by default for fine-tuned models: it helped on "
        "every held-out part of four UCR training files (README); off for ridge members, fitted on whole series."))]
    = None,
    device: Device = "auto",
    coverage: Coverage = None,
    class_conditional: ClassConditional = False,
    confusion_plot: Annotated[Path | None, typer.Option(help="Also save the confusion matrix as a PNG "
                                                                "(labelled files).", show_default=False)] = None,
    min_confidence: MinConfidence = None,
    quiet: Quiet = False,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object: predictions, accuracy, "
                                                       "confusion matrix.")] = False,
    csv: AsCsv = False,
    out: OutFile = None,
) -> None:
    """Classify each series (row) of a file with a model trained on series.

    When the file has labels, also prints the accuracy and the confusion matrix (true labels in rows): the model's, before --min-confidence, which then also reports the accuracy on the series it left known.
    """
    import numpy as np

    from petclf.inference import load_classifier, prediction_sets
    from petclf.inference import predict_series as classify
    from petclf.metrics import score

    one_format(**{"--json": json_, "--csv": csv})
    classifier = load_classifier(model, device, input="series")
    limits = conformal_limits(classifier.meta, coverage, class_conditional)
    note_uncalibrated(classifier.meta, model, quiet or json_ or csv)
    label_col = label_col if label_col is not None else classifier.meta.series.label_col
    series = classifier.meta.series.read(file, None if no_labels else label_col)
    with console.progress("predict", total=len(series.X), unit="series", quiet=quiet or json_ or csv) as advance:
        probs = classify(classifier, series, bs=bs, advance=advance,
                         tta=classifier.meta.tta if tta is None else tta)
    confidence, index = probs.max(1), probs.argmax(1)
    classes = classifier.meta.classes
    predicted = [classes[i] for i in index.tolist()]
    scored = score(series.labels, predicted, classes) if series.labels else None
    rows = [{"row": row, "label": unsure(label, p, min_confidence), "probability": p} for row, (label, p) in
            enumerate(zip(predicted, confidence.tolist(), strict=True))]
    for row, true in zip(rows, series.labels, strict=True) if series.labels else []:
        row["true_label"] = true
    if limits is not None:
        for row, chosen in zip(rows, prediction_sets(classifier.meta, probs, limits), strict=True):
            row["set"] = chosen
    known = [r for r in rows if r["label"] != UNKNOWN]
    summary = scored and {"accuracy": scored.accuracy,
                          "confusion_matrix": {"classes": scored.classes, "counts": scored.matrix}}
    if scored and min_confidence is not None:
        summary.update(known=len(known), known_accuracy=sum(r["label"] == r["true_label"] for r in known) / len(known)
                       if known else None)
    if scored and limits is not None:
        summary.update(coverage=coverage, covered=_covered(rows), mean_set_size=float(np.mean([len(r["set"]) for r in rows])))
    header = (["row", "label", "probability"] + (["true label"] if scored else [])
              + ([set_column(coverage)] if limits is not None else []))
    emit(rows, lambda: console.table("predictions", header, [[r["row"], r["label"], f"{r['probability']:.4f}"] +
                                                              ([r["true_label"]] if scored else []) +
                                                              ([", ".join(r["set"])] if limits is not None else [])
                                                              for r in rows]),
         json_, csv, out, document={"model": str(model), "file": str(file), "predictions": rows,
                                    **(summary or {"accuracy": None, "confusion_matrix": None})})
    if scored and not (json_ or csv):
        console.table("confusion matrix", ["true \\ predicted", *scored.classes],
                      [[label, *counts] for label, counts in zip(scored.classes, scored.matrix, strict=True)])
        console.result(f"accuracy {scored.accuracy:.4f} ({round(scored.accuracy * len(rows))}/{len(rows)})")
        if "covered" in summary:
            console.result(f"prediction sets at {coverage:g}: {summary['covered']:.4f} hold the true label, "
                           f"{summary['mean_set_size']:.2f} classes on average")
        if "known" in summary:
            console.result(f"{summary['known']} of {len(rows)} at or above --min-confidence {min_confidence:g}"
                           + (f": accuracy {summary['known_accuracy']:.4f} on those" if known else ""))
    if scored and confusion_plot:
        from petclf.plots import save_confusion_matrix

        save_confusion_matrix(np.array(scored.matrix), scored.classes, confusion_plot)


def _covered(rows: list[dict]) -> float:
    """The share of labelled rows whose prediction set holds the true label."""
    return sum(row["true_label"] in row["set"] for row in rows) / len(rows)
