"""The command line: parse options, call one library function, print its result.

One module per command group; each registers its commands on the shared ``app`` and keeps
heavy imports (torch, fastai) inside the commands, so ``petclf --help`` stays fast.
"""

import os
import signal

from petclf.cli import check, evaluate, explain, export, lrfind, predict, train, tsimage, tune  # noqa: F401  (they register their commands)
from petclf.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    # Large tensors (GAF batches, activations) on transparent huge pages: PyTorch reads this at
    # its first large allocation. Without it, first-touch page faults cost more than the GADF
    # maths itself (0.64 s vs 0.16 s for 1000 fields of 570 x 570 on a 2-core machine).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    signal.signal(signal.SIGTERM, _as_ctrl_c)
    app()


def _as_ctrl_c(signum, frame) -> None:
    """SIGTERM (``kill``, a CI job's time-out) stops a run as Ctrl-C does: what is complete is
    kept, and no temporary folder is left behind (Python's default ends at once, leaving both)."""
    raise KeyboardInterrupt
