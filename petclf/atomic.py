"""Write files and folders under a temporary name and rename them into place at the end,
so an error or Ctrl-C never leaves a half-written output behind.

``tempfile`` makes its files 0600 and folders 0700; what is renamed into place gets the
permissions a plain ``open`` or ``mkdir`` would have given it (0666 / 0777 less the umask)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petclf.errors import UsageError, WriteError


@contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; it becomes ``dest`` only if the block succeeds."""
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(dir=_writable_parent(dest), prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with _write_errors_named(dest):
            yield Path(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_dir(dest: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``dest``; it replaces ``dest`` if the block succeeds.

    An existing non-empty ``dest`` is refused unless ``overwrite``, before any work starts.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise UsageError(f"{dest}: folder exists and is not empty (use --overwrite to replace it)")
    tmp = Path(tempfile.mkdtemp(dir=_writable_parent(dest), prefix=f".{dest.name}.", suffix=".tmp"))
    try:
        with _write_errors_named(dest, inside=tmp):
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())
            _swap_in(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _write_errors_named(dest: Path, inside: Path | None = None) -> Iterator[None]:
    """Name the output that failed, as the user knows it: a file written ``inside`` a temporary
    folder is reported at its place in ``dest``."""
    try:
        yield
    except WriteError as error:
        if inside is None or not error.path.is_relative_to(inside):
            raise
        raise WriteError(dest / error.path.relative_to(inside), error.reason) from error
    except OSError as error:
        raise WriteError(dest, error.strerror or str(error)) from error


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def _swap_in(tmp: Path, dest: Path) -> None:
    if not dest.exists():
        os.rename(tmp, dest)
        return
    old = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def _writable_parent(dest: Path) -> Path:
    parent = dest.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{parent}: cannot create the output folder ({error.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{parent}: the output folder is not writable")
    return parent


def write_csv(path: Path, rows: list[dict]) -> None:
    """Rows as CSV, the header from the first row's keys."""
    with atomic_file(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_json(path: Path, data: dict) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
