"""Readers for time-series files: every format ends as one float32 array ``(n, C, L)``.

Formats, by file extension:
- ``.tsv`` / ``.txt`` / ``.csv``: one series per row, delimited by tabs, commas or
  whitespace; the label is a column (the first by default, as in the UCR archive) or absent.
  A first row that is not numeric is a header, and ``label_col`` may name one of its columns.
- ``.npy``: an array ``(n, L)`` or ``(n, C, L)``; ``.npz``: the same under ``X`` (or ``x``),
  with optional labels under ``y``. Loaded with ``allow_pickle=False``: a data file never runs code.
- ``.ts``: the sktime / UEA format (``@`` headers, ``@data``, channels split by ``:``, the
  class label last), univariate or multivariate, of equal length or not (``@equalLength false``).

Series of different lengths (rows of different widths, ``.ts`` with ``@equalLength false``, or
NaN padding at their ends, as UCR's files of unequal length have) and NaN gaps inside a series
(``?`` in ``.ts``, ``nan`` or an empty cell in text) are taken as they come: ``uniform`` makes
them one array, a gap filled by linear interpolation between its neighbours, and each series
padded with zeros at its end to the longest (``fit="pad"``) or resampled linearly to it
(``"resample"``). Padding keeps a series' duration in its picture, which is often part of its
class: on halves of the UEA training files it beat resampling on PickupGestureWiimoteZ by 0.24 and
lost by 0.04 on JapaneseVowels, and MiniRocket gained from it on both (bench/results/ucr-probe.md).
A file of equal, complete series is left as it is.

Every problem is a ``DataError`` naming the file and the line (or the series).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petclf.errors import DataError, UsageError
from petclf.inputs import SERIES_SUFFIXES as SUFFIXES
from petclf.splits import natural_order

DELIMITED = (".tsv", ".txt", ".csv")
FITS = ("pad", "resample")  # how series of different lengths become one length


@dataclass(frozen=True)
class SeriesSet:
    """Time series from one file.

    X : float32 array, shape = (n_series, n_channels, length); finite values only.
    labels : one string per series, or None when the file has no labels.
    """

    X: np.ndarray
    labels: list[str] | None
    source: Path
    uneven: bool = False  # the series differed in length (or had gaps) and were made one length

    @property
    def classes(self) -> list[str]:
        return natural_order(set(self.labels or []))


def read_series(path: Path | str, label_col: int | str | None = 0, length: int | None = None,
                fit: str = "pad") -> SeriesSet:
    """Read a series file; ``label_col`` (index or header name, None = no labels) applies to
    delimited text, the other formats say themselves whether they carry labels. ``length``:
    make every series that long as ``fit`` says (a model that learned from series of varying
    length reads any file so); by default only series of varying length are, to the longest."""
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
        rows, labels = _read_delimited(path, label_col)
    elif suffix == ".ts":
        rows, labels = _read_ts(path)
    else:
        rows, labels = _read_numpy(path)
    X, uneven = uniform(path, rows, length, fit)
    return SeriesSet(X, labels, path, uneven)


def uniform(path: Path, rows: list[np.ndarray], length: int | None = None,
            fit: str = "pad") -> tuple[np.ndarray, bool]:
    """Series ``(C, L_i)`` (NaN for missing values) as one float32 array ``(n, C, length)`` and
    whether any had to change: equal, complete series (and no ``length`` asked) stay as they are.
    ``fit``: shorter series are padded with zeros at their end (``"pad"``) or resampled
    (``"resample"``); a series longer than ``length`` is resampled down to it either way."""
    if not rows:
        raise DataError(path, "no series found")
    with np.errstate(over="ignore"):
        rows = [np.asarray(row, dtype=np.float32) for row in rows]
    for index, row in enumerate(rows):
        if np.isinf(row).any():
            raise DataError(path, f"series {index} contains infinite or out-of-range values (beyond ±3.4e38)")
    if length is None and len({row.shape for row in rows}) == 1 and not any(np.isnan(row).any() for row in rows):
        if rows[0].shape[-1] < 2:
            raise DataError(path, f"series have {rows[0].shape[-1]} value(s); at least 2 are needed")
        return np.stack(rows), False
    if len({row.shape[0] for row in rows}) != 1:
        raise DataError(path, "series have different numbers of channels")
    filled = [_filled(path, index, row) for index, row in enumerate(rows)]
    target = length or max(channel.size for row in filled for channel in row)
    made = _padded if fit == "pad" else _resampled
    return np.stack([[made(channel, target) for channel in row] for row in filled]).astype(np.float32), True


def _filled(path: Path, index: int, row: np.ndarray) -> list[np.ndarray]:
    """Each channel without its trailing NaN (padding), its inner gaps interpolated."""
    channels = []
    for channel in row:
        known = np.flatnonzero(~np.isnan(channel))
        if known.size < 2:
            raise DataError(path, f"series {index} has {'no' if known.size == 0 else 'one'} value in a channel; "
                                  "at least 2 are needed")
        channel = channel[:known[-1] + 1]
        channels.append(np.interp(np.arange(channel.size), known, channel[known]))
    return channels


def _padded(channel: np.ndarray, length: int) -> np.ndarray:
    """``channel`` with zeros after it up to ``length``; one longer than that, resampled to it."""
    return np.pad(channel, (0, length - channel.size)) if channel.size <= length else _resampled(channel, length)


def _resampled(channel: np.ndarray, length: int) -> np.ndarray:
    if channel.size == length:
        return channel
    return np.interp(np.linspace(0, channel.size - 1, length), np.arange(channel.size), channel)


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
    from_end = label_at is not None and not _is_column_name(label_col) and int(label_col) < 0
    values, labels = [], []
    for (number, _), row in zip(lines, rows, strict=True):  # rows may differ in width: series of different lengths
        at = len(row) + int(label_col) if from_end else label_at  # -1: each row's last column
        if at is not None:
            if not 0 <= at < len(row):
                raise DataError(path, f"line {number} has {len(row)} columns, too few for its label")
            label = row[at].strip()
            if not label or label.lower() == "nan":
                raise DataError(path, f"line {number} has no label")
            labels.append(label_text(label))
        columns = [i for i in range(len(row)) if i != at]
        values.append(_numbers(path, number, [row[i] for i in columns],
                               lambda k, columns=columns: f"column {columns[k] + 1}")[None, :])
    return values, labels if label_at is not None else None


def _numbers(path: Path, number: int, cells: list[str], where: Callable[[int], str]) -> np.ndarray:
    """The cells of one line as float64, an empty cell or ``?`` a missing value (NaN); ``where(k)``
    says where cell ``k`` is, for the error."""
    cells = ["nan" if cell.strip() in ("", "?") else cell for cell in cells]
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        k = next(k for k, cell in enumerate(cells) if not is_number(cell))
        raise DataError(path, f"line {number}, {where(k)}: {cells[k].strip()!r} is not a number") from None
    if np.isinf(values).any():
        raise DataError(path, f"line {number} contains infinite values")
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
    return list(X), None if y is None else [label_text(v) for v in y]


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
        channels = [_numbers(path, number, part.split(","), lambda k, c=c: f"channel {c + 1}, value {k + 1}")
                    for c, part in enumerate(parts)]
        if len({len(c) for c in channels}) != 1:  # channels of one series of different lengths: NaN-padded
            longest = max(len(c) for c in channels)
            channels = [np.pad(c, (0, longest - len(c)), constant_values=np.nan) for c in channels]
        if series and len(channels) != len(series[0]):
            raise DataError(path, f"line {number} has {len(channels)} channel(s), the first series {len(series[0])}")
        series.append(np.stack(channels))
    if not in_data:
        raise DataError(path, "no @data section (is this a .ts file?)")
    return series, labels if has_labels else None
