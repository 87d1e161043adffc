"""What every benchmark here shares: repeated timing with median/min/max, a description of the
machine, and a markdown results file in bench/results/ that keeps earlier runs."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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


def timed_pair(ours: Callable[[], object], theirs: Callable[[], object], repeats: int = 5) -> tuple[Timing, Timing]:
    """Time two contenders alternately (one warm-up each), so drift in a shared or throttled
    machine falls on both alike rather than on whichever ran second."""
    ours(), theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for work, seconds in zip((ours, theirs), times):
            start = time.perf_counter()
            work()
            seconds.append(time.perf_counter() - start)
    return tuple(Timing(statistics.median(s), min(s), max(s)) for s in times)


def machine() -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), {device}")


def write_results(name: str, table: str) -> Path:
    """Write bench/results/<name>-<date>-<host>.md and return its path."""
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    path = RESULTS / f"{name}-{stamp}-{platform.node() or 'host'}.md"
    path.write_text(f"# {name}, {dt.datetime.now():%Y-%m-%d %H:%M}\n\nMachine: {machine()}\n\n{table}\n")
    return path


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
