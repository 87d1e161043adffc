"""What every benchmark here shares: repeated timing with median/min/max, a row of the results
table, a description of the machine, and a markdown results file in bench/results/ that keeps
earlier runs."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass
class Timing:
    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.3f} s ({self.low:.3f}–{self.high:.3f})"


def timed(work: Callable[[], object], repeats: int = 5, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        work()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return Timing(statistics.median(seconds), min(seconds), max(seconds))


def timed_pair(ours: Callable[[], object], theirs: Callable[[], object], repeats: int = 5,
               measure: bool = False) -> tuple[Timing, Timing]:
    """Time two contenders alternately (one warm-up each), so drift in a shared or throttled
    machine falls on both alike rather than on whichever ran second. With ``measure``, each call
    returns its own seconds (e.g. of one epoch within a whole training run), which are used
    instead of the wall time of the call."""
    ours(), theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for work, seconds in zip((ours, theirs), times, strict=True):
            start = time.perf_counter()
            returned = work()
            seconds.append(returned if measure else time.perf_counter() - start)
    return tuple(Timing(statistics.median(s), min(s), max(s)) for s in times)


@dataclass
class Row:
    """One line of the results table: petclf against a reference measured in the same run."""

    task: str
    ours: Timing | str
    reference: str
    theirs: Timing | str
    ratio: float
    kind: str  # what the ratio is: "speed-up" (theirs / ours), "time" or "memory" (ours / theirs)
    target: str
    met: bool | None  # None: no target
    note: str = ""

    def cells(self) -> list[str]:
        verdict = "–" if self.met is None else ("met" if self.met else "**missed**")
        return [self.task, str(self.ours), f"{self.reference}: {self.theirs}", f"**{self.ratio:.2f}×** {self.kind}",
                self.target, verdict, self.note]


HEADER = ["task", "petclf, median (min–max)", "reference, median (min–max)", "ratio", "target", "", "note"]


def report(name: str, rows: list[Row]) -> Path:
    """Print the rows as one table and write it to bench/results/<date>-<machine>[-name].md."""
    table = markdown_table(HEADER, [row.cells() for row in rows])
    print(table)
    path = write_results(name, table)
    print(f"\nwritten to {path}")
    return path


def machine() -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), {device}")


def write_results(name: str, table: str) -> Path:
    """Write bench/results/<date>-<machine>[-name].md (a new file when one exists: earlier results
    are kept) and return its path."""
    now = dt.datetime.now()
    stem = f"{now:%Y-%m-%d}-{machine_name()}" + (f"-{name}" if name != "all" else "")
    file_name = f"{stem}-{now:%H%M%S}.md" if (RESULTS / f"{stem}.md").exists() else f"{stem}.md"
    return write_titled(file_name, f"petclf benchmarks ({name})", table)


def write_titled(file_name: str, title: str, body: str) -> Path:
    """bench/results/FILE_NAME: the title with the time, the machine, then ``body``; written whole
    (a stopped run leaves the last complete report)."""
    from petclf.atomic import atomic_file

    path = RESULTS / file_name
    with atomic_file(path) as partial:
        partial.write_text(f"# {title}, {time.strftime('%Y-%m-%d %H:%M')}\n\nMachine: {machine()}\n\n{body}\n")
    return path


def machine_name() -> str:
    """A short file-name-safe name for this kind of machine: CPU cores, GPU or not, host."""
    import torch

    gpu = torch.cuda.get_device_name().split()[-1].lower() if torch.cuda.is_available() else "cpu"
    return f"{os.cpu_count()}core-{gpu}-{platform.node() or 'host'}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
