"""Predictions as a script wants them: a table on a terminal, or CSV or JSON on stdout, and a
copy in a file (``--out``), with labels below ``--min-confidence`` given as "unknown"."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from petclf import console
from petclf.atomic import atomic_file

UNKNOWN = "unknown"


def unsure(label: str, probability: float, min_confidence: float | None) -> str:
    """``label``, or "unknown" when the model gave it less than ``min_confidence``."""
    return UNKNOWN if min_confidence is not None and probability < min_confidence else label


def note_uncalibrated(meta, model: Path, quiet: bool) -> None:
    """Say once that a model file's probabilities are not calibrated: one from before petclf
    calibrated, or a run stopped before its end (which calibrates)."""
    if meta.calibration is None and not quiet:
        console.note(f"{model}: not calibrated (trained before petclf calibrated its models, or a run stopped before "
                     "its end): its probabilities are the network's own")


def conformal_limits(meta, coverage: float | None, class_conditional: bool):
    """The conformal thresholds for --coverage (None without it)."""
    from petclf.errors import UsageError
    from petclf.inference import set_thresholds

    if coverage is None:
        if class_conditional:
            raise UsageError("--class-conditional goes with --coverage P")
        return None
    return set_thresholds(meta, coverage, class_conditional)


def set_column(coverage: float) -> str:
    return f"set ({coverage:.0%})"


def emit(rows: list[dict], table: Callable[[], None], as_json: bool, as_csv: bool, out: Path | None,
         document: Any = None) -> None:
    """Print ``rows`` (one dict per prediction) as ``table()``, JSON or CSV, and write them to
    ``out`` (JSON when it ends in .json, else CSV). ``document``: the JSON to give instead of
    the rows, when there is more to say (accuracy, confusion matrix)."""
    document = rows if document is None else document
    if out is not None:
        text = json.dumps(document, indent=2) + "\n" if out.suffix.lower() == ".json" else csv_text(rows)
        with atomic_file(out) as tmp:
            tmp.write_text(text)
    if as_json:
        console.print_json(document)
    elif as_csv:
        console.raw(csv_text(rows))
    else:
        table()


def csv_text(rows: list[dict]) -> str:
    """Rows as CSV with a header of every key any row has; a list of top classes becomes
    columns label_1, probability_1, label_2, ... (the model's guesses, also where the label is
    "unknown"); a prediction set, its labels joined by ';'."""
    flat = [_flat(row) for row in rows]
    header = list(dict.fromkeys(key for row in flat for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return text.getvalue()


def _flat(row: dict) -> dict:
    top = row.get("top") or []
    rest = {key: ";".join(value) if key == "set" else value for key, value in row.items() if key != "top"}
    for rank, guess in enumerate(top if len(top) > 1 or row.get("label") == UNKNOWN else [], start=1):
        rest.update({f"label_{rank}": guess["label"], f"probability_{rank}": guess["probability"]})
    return rest
