"""Write files and folders under a temporary name and rename them into place at the end,
so an error or Ctrl-C never leaves a half-written output behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from petclf.errors import PetclfError, UsageError


@contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; it becomes ``dest`` only if the block succeeds."""
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(dir=_writable_parent(dest), prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with _write_errors_named(dest):
            yield Path(tmp)
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
        with _write_errors_named(dest):
            yield tmp
            _swap_in(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _write_errors_named(dest: Path) -> Iterator[None]:
    """A failed write (disk full, permissions) is the user's to fix: say which output and why."""
    try:
        yield
    except OSError as error:
        raise PetclfError(f"{dest}: could not be written ({error.strerror or error})") from error


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
