"""Write files and folders under a temporary name and rename them into place at the end,
so an error or Ctrl-C never leaves a half-written output behind.

What is renamed into place is flushed to disk first (fsync), and so is the folder the rename
changed, so a power cut leaves the old output or the new one. Replacing a folder takes two
renames (the old one aside, the new one in); Ctrl-C and SIGTERM wait until both are done.

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
            _fsync(Path(tmp))
            os.replace(tmp, dest)
            _fsync(dest.absolute().parent)
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
            for path in sorted(tmp.rglob("*"), reverse=True):  # files before the folders holding them
                _fsync(path)
            _fsync(tmp)
            _swap_in(tmp, dest)
            _fsync(dest.absolute().parent)
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
    """``tmp`` renamed to ``dest``, an existing ``dest`` first moved aside and then removed."""
    if not dest.exists():
        os.rename(tmp, dest)
        return
    old = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    try:
        with _signals_held():
            os.rename(dest, old)
            os.rename(tmp, dest)
    finally:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM held back until the block is done, then raised again for their
    own handlers: between the two renames of a swap, neither the old folder nor the new one is in
    place. Handlers, not a signal mask: a mask holds one thread, and the kernel hands a signal to
    any other (torch's threads). Signals reach Python's handlers only in the main thread, so
    elsewhere there is nothing to hold."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {held: signal.signal(held, lambda number, frame: caught.append(number))
                for held in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, signal.SIG_DFL if handler is None else handler)
        for number in caught:
            signal.raise_signal(number)


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
