"""How long `petclf --help` and `petclf tsimage --help` take in a fresh process.

    make bench          # or: .venv/bin/python bench/bench_cli.py

The reference is the floor of any Python command: the same interpreter starting and exiting
(`python -c pass`). Commands import torch and fastai only when they need them, so help should
cost little above that; the target is under 1 s of wall time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Row, report, timed_pair  # noqa: E402

PETCLF = str(Path(sys.executable).parent / "petclf")
REPEATS = 7


def help_row(*command: str) -> Row:
    def run(args):
        return lambda: subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

    ours, theirs = timed_pair(run([PETCLF, *command, "--help"]), run([sys.executable, "-c", "pass"]),
                              repeats=REPEATS)
    return Row(f"`petclf {' '.join(command) + ' ' if command else ''}--help`", ours,
               "python -c pass", theirs, ours.median / theirs.median, "time", "< 1 s", ours.median < 1,
               f"{ours.median - theirs.median:.2f} s above the interpreter's start")


def rows() -> list[Row]:
    return [help_row(), help_row("tsimage")]


if __name__ == "__main__":
    report("cli", rows())
