"""The only module that prints. Results go to stdout (tables, ``--json``); progress bars,
notes and errors go to stderr, so ``petclf ... --json | jq`` always gets clean JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def error(message: str) -> None:
    """One line on stderr, never wrapped, whatever the terminal width."""
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def note(message: str) -> None:
    err.print(escape(message), soft_wrap=True)


def result(message: str) -> None:
    out.print(message, soft_wrap=True)


def raw(text: str) -> None:
    """Text on stdout exactly as given (CSV)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


@contextmanager
def progress(description: str, total: int, unit: str, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``advance(n)``. Shown on a terminal only (a log gets no
    bar, and an error is its only line), never with ``quiet``, and taken off the screen when
    the work fails, so that the error is the only line left there too."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   _RateColumn(unit), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=err, disable=quiet or not err.is_terminal)
    with bar:
        task = bar.add_task(description, total=total)
        try:
            yield lambda n=1: bar.advance(task, n)
        except BaseException:
            bar.remove_task(task)
            raise


class EpochBoard:
    """Training on screen: a bar over the batches of the epoch in progress, and each finished
    epoch as a row of a table printed above it (stderr; the rows stay, the bar goes)."""

    def __init__(self, quiet: bool = False):
        self.quiet, self.header_printed, self.task = quiet, False, None
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            _RateColumn("batches"), TimeElapsedColumn(), console=err, transient=True,
                            disable=quiet)

    def __enter__(self) -> EpochBoard:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def start(self, description: str, total: int) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(description, total=total)

    def advance(self) -> None:
        self.bar.advance(self.task)

    def row(self, values: dict[str, Any]) -> None:
        if self.quiet:
            return
        if not self.header_printed:
            self.bar.console.print(" ".join(f"{name:>11}" for name in values), style="bold", soft_wrap=True)
            self.header_printed = True
        cells = (f"{v:>11.4f}" if isinstance(v, float) else f"{v!s:>11}" for v in values.values())
        self.bar.console.print(" ".join(cells), soft_wrap=True, highlight=False)


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    """A table of results on stdout: fitted to a terminal, at its natural width anywhere else
    (a pipe or a file gets whole file names, not ones cut to 80 columns)."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", header_style="bold")
    for name in header:
        grid.add_column(name, justify="left" if name in ("file", "label", "error") else "right")
    for row in rows:
        grid.add_row(*(escape(str(cell)) for cell in row))
    (out if out.is_terminal else Console(highlight=False, width=100_000)).print(grid)
