"""Every benchmark in bench/, one table: `make bench`.

Runs bench_tsimage (GADF maths, tsimage end to end), bench_predict (cold and warm prediction),
bench_train (a training epoch against fastai, series on the fly against PNGs) and bench_cli
(help wall time) in this order, prints one table and writes it to
bench/results/<date>-<machine>.md. Each module also runs on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_cli  # noqa: E402
import bench_predict  # noqa: E402
import bench_train  # noqa: E402
import bench_tsimage  # noqa: E402
from common import report  # noqa: E402

if __name__ == "__main__":
    found = []
    for module in (bench_tsimage, bench_predict, bench_train, bench_cli):
        print(f"running {module.__name__} …", file=sys.stderr, flush=True)
        found += module.rows()
    report("all", found)
