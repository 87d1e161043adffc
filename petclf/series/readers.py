"""Readers for time-series files: every format ends as one float32 array ``(n, C, L)``.

Formats, by file extension:
- ``.tsv`` / ``.txt`` / ``.csv``: one series per row, delimited by tabs, commas or
  whitespace; the label is a column (the first by default, as in the UCR archive) or absent.
  A first row that is not numeric is a header, and ``label_col`` may name one of its columns.
- ``.npy``: an array ``(n, L)`` or ``(n, C, L)``; ``.npz``: the same under ``X`` (or ``x``),
  with optional labels under ``y``. Loaded with ``allow_pickle=False``: a data file never runs code.
- ``.ts``: the sktime / UEA format (``@`` headers, ``@data``, channels split by ``:``, the
  class label last), univariate or multivariate, equal length.

Every problem is a ``DataError`` naming the file and the line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from petclf.errors import DataError, UsageError
from petclf.inputs import SERIES_SUFFIXES as SUFFIXES

DELIMITED = (".tsv", ".txt", ".csv")


@dataclass(frozen=True)
class SeriesSet:
    """Time series from one file.

    X : float32 array, shape = (n_series, n_channels, length); finite values only.
    labels : one string per series, or None when the file has no labels.
    """

    X: np.ndarray
    labels: list[str] | None
    source: Path

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels or []))


def read_series(path: Path | str, label_col: int | str | None = 0) -> SeriesSet:
    """Read a series file; ``label_col`` (index or header name, None = no labels) applies to
    delimited text, the other formats say themselves whether they carry labels."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"{path}: unknown series format {suffix or '(no extension)'!r}; "
                         f"use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty")
    if suffix in DELIMITED:
        X, labels = _read_delimited(path, label_col)
    elif suffix == ".ts":
        X, labels = _read_ts(path)
    else:
        X, labels = _read_numpy(path)
    return SeriesSet(_checked(path, X), labels, path)


def label_text(cell: object) -> str:
    """A label as text; numeric labels lose float noise (UCR's ``1.0000000e+00`` is ``1``)."""
    text = str(cell).strip()
    try:
        value = float(text)
    except ValueError:
        return text
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return text


def _checked(path: Path, X: np.ndarray) -> np.ndarray:
    if X.shape[0] == 0:
        raise DataError(path, "no series found")
    if X.shape[-1] < 2:
        raise DataError(path, f"series have {X.shape[-1]} value(s); at least 2 are needed")
    with np.errstate(over="ignore"):
        X = X.astype(np.float32, copy=False)
    bad = ~np.isfinite(X).all(axis=(1, 2))
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(path, f"series {row} contains NaN, infinite or out-of-range values (beyond ±3.4e38)")
    return X


def _text_lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, "not a text file (it is not UTF-8)") from None
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _split_rows(path: Path, lines: list[tuple[int, str]]) -> list[list[str]]:
    first = lines[0][1]
    if "\t" in first or "," in first:
        delimiter = "\t" if "\t" in first else ","
        return list(csv.reader((line for _, line in lines), delimiter=delimiter))
    return [line.split() for _, line in lines]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(row: list[str], label_col: int | str | None) -> bool:
    """A first row is a header when a value cell (not the label's) is not a number."""
    if _is_column_name(label_col):
        return True
    cells = list(row)
    if label_col is not None and -len(cells) <= int(label_col) < len(cells):
        cells.pop(int(label_col))
    return not all(is_number(cell) for cell in cells if cell.strip())


def _is_column_name(label_col: int | str | None) -> bool:
    return isinstance(label_col, str) and not label_col.lstrip("-").isdigit()


def _label_index(path: Path, label_col: int | str, header: list[str] | None, width: int) -> int:
    if _is_column_name(label_col):
        if header is None or label_col not in header:
            names = ", ".join(header) if header else "none: the file has no header row"
            raise UsageError(f"{path}: --label-col {label_col!r} is not a column (columns: {names})")
        return header.index(label_col)
    index = int(label_col)
    if not -width <= index < width:
        raise UsageError(f"{path}: --label-col {index} is out of range (the file has {width} columns)")
    return index % width


def _read_delimited(path: Path, label_col: int | str | None) -> tuple[np.ndarray, list[str] | None]:
    lines = _text_lines(path)
    if not lines:
        raise DataError(path, "no series found (only blank lines)")
    rows = _split_rows(path, lines)
    header = None
    if _is_header(rows[0], label_col):
        header, rows, lines = [c.strip() for c in rows[0]], rows[1:], lines[1:]
        if not rows:
            raise DataError(path, "no series found (only a header row)")
    width = len(header or rows[0])
    label_at = None if label_col is None else _label_index(path, label_col, header, width)
    values, labels = [], []
    for (number, _), row in zip(lines, rows):
        if len(row) != width:
            raise DataError(path, f"line {number} has {len(row)} columns, expected {width} "
                                  "(every series must have the same length)")
        if label_at is not None:
            label = row[label_at].strip()
            if not label or label.lower() == "nan":
                raise DataError(path, f"line {number} has no label")
            labels.append(label_text(label))
        columns = [i for i in range(width) if i != label_at]
        values.append(_numbers(path, number, [row[i] for i in columns],
                               lambda k: f"column {columns[k] + 1}"))
    return np.stack(values)[:, None, :], labels if label_at is not None else None


def _numbers(path: Path, number: int, cells: list[str], where: Callable[[int], str]) -> np.ndarray:
    """The cells of one line as float64; ``where(k)`` says where cell ``k`` is, for the error."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        k = next(k for k, cell in enumerate(cells) if not is_number(cell))
        raise DataError(path, f"line {number}, {where(k)}: {cells[k].strip()!r} is not a number") from None
    if not np.isfinite(values).all():
        raise DataError(path, f"line {number} contains NaN, missing or infinite values")
    return values


def _read_numpy(path: Path) -> tuple[np.ndarray, list[str] | None]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:
        problem = "holds Python objects, which petclf does not load" if "pickle" in str(error) else str(error)
        raise DataError(path, problem) from None
    except (OSError, EOFError) as error:
        raise DataError(path, f"not a valid NumPy file ({error})") from None
    if isinstance(loaded, np.ndarray):
        X, y = loaded, None
    else:
        with loaded:
            key = next((k for k in ("X", "x") if k in loaded.files), None)
            if key is None:
                raise DataError(path, f"no array named 'X' (found: {', '.join(loaded.files) or 'none'})")
            X, y = loaded[key], loaded["y"] if "y" in loaded.files else None
    if X.ndim not in (2, 3) or not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(path, f"X must be a real-valued array (n, L) or (n, C, L), got {X.dtype} {X.shape}")
    X = X[:, None, :] if X.ndim == 2 else X
    if y is not None and len(y) != len(X):
        raise DataError(path, f"y has {len(y)} labels for {len(X)} series")
    return X, None if y is None else [label_text(v) for v in y]


def _read_ts(path: Path) -> tuple[np.ndarray, list[str] | None]:
    has_labels, in_data, series, labels = False, False, [], []
    for number, line in _text_lines(path):
        line = line.strip()
        if line.startswith("#"):
            continue
        if not in_data:
            tag, _, value = line.partition(" ")
            tag, value = tag.lower(), value.strip().lower()
            if tag == "@timestamps" and value == "true":
                raise DataError(path, "series with timestamps are not supported")
            has_labels = has_labels or (tag == "@classlabel" and value.startswith("true"))
            in_data = tag == "@data"
            continue
        parts = line.split(":")
        if has_labels:
            labels.append(label_text(parts.pop()))
        channels = [_numbers(path, number, part.replace("?", "nan").split(","),
                             lambda k, c=c: f"channel {c + 1}, value {k + 1}") for c, part in enumerate(parts)]
        if len({len(c) for c in channels}) != 1:
            raise DataError(path, f"line {number}: channels of unequal length are not supported")
        series.append((number, np.stack(channels)))
    if not in_data:
        raise DataError(path, "no @data section (is this a .ts file?)")
    if series and len({s.shape for _, s in series}) != 1:
        number, shape = next((n, s.shape) for n, s in series if s.shape != series[0][1].shape)
        raise DataError(path, f"line {number} has shape {shape}, expected {series[0][1].shape} "
                              "(channels x length must be the same for every series)")
    X = np.stack([s for _, s in series]) if series else np.empty((0, 1, 0))
    return X, labels if has_labels else None
