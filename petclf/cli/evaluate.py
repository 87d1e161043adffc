"""``petclf evaluate``."""

import datetime
from pathlib import Path
from typing import Annotated

import typer

from petclf import console, inputs
from petclf.cli._app import app
from petclf.cli.options import (
    Batch,
    ClassConditional,
    Coverage,
    CsvLabels,
    Device,
    Json,
    LabelRe,
    ModelOrExport,
    OldCsvLabels,
    Pets,
    Quiet,
    at_least,
    one_format,
)


@app.command("evaluate", epilog="[bold]Examples[/]\n\n"
                                "  petclf evaluate runs/digits digits-test/\n\n"
                                "  petclf evaluate runs/gunpoint GunPoint_TEST.tsv --json\n\n"
                                "  petclf evaluate runs/digits digits-test/ --csv-report > per_class.csv\n\n"
                                "  petclf evaluate runs/pets/model.onnx pets/test --pets --tta --out eval/pets")
def evaluate(
    model: ModelOrExport,
    data: Annotated[Path, typer.Argument(metavar="DATA", show_default=False, help=(
        "Labelled images never trained on: DATA/<label>/<image> (or --label-re, --pets, --csv), or a labelled "
        "series file."))],
    label_re: LabelRe = None,
    pets: Pets = False,
    csv: CsvLabels = None,
    old_csv: OldCsvLabels = None,
    label_col: Annotated[str | None, typer.Option(help=(
        "Label column of a .tsv/.txt/.csv series file \\[default: the one the model was trained with]."),
        show_default=False)] = None,
    top_k: Annotated[int, typer.Option(help="Also count an item right when its label is among the model's "
                                            "top K classes.", metavar="K", callback=at_least(1))] = 5,
    tta: Annotated[bool | None, typer.Option("--tta/--no-tta", show_default=False, help=(
        "Test-time augmentation, as in predict \\[default: on for fine-tuned series models, off for ridge members "
        "and images]."))] = None,
    bs: Batch = 64,
    device: Device = "auto",
    coverage: Coverage = None,
    class_conditional: ClassConditional = False,
    out: Annotated[Path | None, typer.Option(help="Folder for the report \\[default: evaluations/<date-time>].",
                                                show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty report folder.")] = False,
    quiet: Quiet = False,
    json_: Json = False,
    csv_report: Annotated[bool, typer.Option("--csv-report", help=(
        "Print the per-class table as CSV on stdout, for scripts (--csv names a label file, as in train)."))] = False,
) -> None:
    """Measure a model on labelled data it never trained on: accuracy, top-k accuracy, and precision, recall and F1 for each class.

    It also measures how far the probabilities can be trusted: expected calibration error, log loss and Brier score, before and after the calibration the model keeps; with --coverage P, how often the prediction sets hold the true label (P is promised) and how large they are, over all items and per class.

    --json prints everything, --csv-report the per-class table. The report folder gets report.json (everything printed), per_class.csv, predictions.csv (each item with its loss, and its set), confusion_matrix.png (counts, and each row as a share of its class), reliability.png (accuracy against confidence) and top_losses.png (the items the model got most wrong: for series, the image the model saw and the curve). Works with model files, ensembles and ONNX exports.
    """
    from petclf.atomic import atomic_dir
    from petclf.cli._output import conformal_limits, csv_text, note_uncalibrated
    from petclf.evaluation.report import class_rows
    from petclf.inference import load_classifier

    one_format(**{"--json": json_, "--csv-report": csv_report})
    kind = "series" if inputs.is_series_file(data) else "image"
    classifier = load_classifier(model, device, input=kind)
    limits = conformal_limits(classifier.meta, coverage, class_conditional)
    note_uncalibrated(classifier.meta, model, quiet or json_ or csv_report)
    if tta is None:
        tta = classifier.meta.tta
    folder = out or Path("evaluations") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        summary = _evaluate(classifier, {"model": str(model), "data": str(data), "tta": tta},
                            (label_re, pets, csv or old_csv, label_col), bs, top_k, tmp, quiet or json_ or csv_report,
                            (limits, coverage))
    if json_:
        console.print_json({"folder": str(folder), **summary})
        return
    if csv_report:
        console.raw(csv_text(class_rows(summary)))
        return
    rows = [[c["class"], f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", c["support"]]
            for c in class_rows(summary)]
    console.table("per class", ["label", "precision", "recall", "f1", "support"], rows)
    items = "series" if kind == "series" else "images"
    console.result(f"accuracy {summary['accuracy']:.4f} of {summary['items']} {items}, "
                   f"top-{summary['top_k']} accuracy {summary['top_k_accuracy']:.4f}")
    quality = summary["calibration"]
    console.result(f"calibration error (ECE) {quality['after']['ece']:.4f}, log loss {quality['after']['nll']:.4f}, "
                   f"Brier {quality['after']['brier']:.4f} (uncalibrated: {quality['before']['ece']:.4f}, "
                   f"{quality['before']['nll']:.4f}, {quality['before']['brier']:.4f})")
    if "sets" in summary:
        sets = summary["sets"]
        console.result(f"prediction sets at {coverage:g}: {sets['covered']:.4f} hold the true label, "
                       f"{sets['mean_set_size']:.2f} classes on average")
    console.result(f"report folder: {folder}")


def _evaluate(classifier, given: dict, labels: tuple, bs: int, top_k: int, folder: Path,
              quiet: bool, conformal: tuple) -> dict:
    """Predict every labelled item of ``given["data"]`` and write the report into ``folder``."""
    from petclf.evaluation import report as ev

    label_re, pets, csv, label_col = labels
    progress = (lambda total, unit: console.progress("evaluate", total=total, unit=unit, quiet=quiet))
    evaluation, series = ev.evaluate_data(classifier, Path(given["data"]), ev.Labels(label_col, label_re, pets, csv),
                                          bs, given["tta"], progress)
    panels = (ev.image_panels(evaluation, classifier.meta.image_size) if series is None
              else ev.series_panels(evaluation, series, classifier.meta))
    quality, bins = ev.calibration_report(evaluation, classifier.meta.temperature)
    summary = {**given, **ev.report(evaluation, top_k), "calibration": quality}
    limits, coverage = conformal
    sets = None
    if limits is not None:
        summary["sets"], sets = ev.coverage_report(evaluation, classifier.meta, limits, coverage)
    ev.write_report(evaluation, summary, folder, panels, bins, sets)
    return summary
