"""Data-parallel training (`--devices 2`, two processes over gloo on this CPU) against one
process with the same global batch: GunPoint's training file, one model (`--folds 1`),
EfficientNet-Lite0 at 64 px for 10 epochs, each seed's model predicting the GunPoint test file.

    .venv/bin/python bench/distributed.py                # about 3 minutes on 2 CPU cores
    .venv/bin/python bench/distributed.py --seeds 0,1,2,3,4

Writes bench/results/distributed.md: test accuracy (mean ± sd over seeds), seconds a run, and
the two processes' ratio to one. On a CPU the two processes share the same cores, so this
checks that the models are as good, not that training is faster; that needs GPUs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import markdown_table, write_titled  # noqa: E402
from ucr import ARCH, petclf  # noqa: E402

GUNPOINT = Path(__file__).resolve().parent.parent / "samples" / "GunPoint"
COMMON = [*ARCH, "--size", "64", "--epochs", "10", "--folds", "1"]
SETUPS = {"one process, --bs 16": ["--bs", "16"], "--devices 2 --bs 8": ["--devices", "2", "--bs", "8"]}


def measure(extra: list[str], seed: int, work: Path) -> tuple[float, float]:
    start = time.perf_counter()
    petclf("train", GUNPOINT / "GunPoint_TRAIN.tsv", *COMMON, *extra, "--seed", seed, "--out", work, "--overwrite", "-q")
    seconds = time.perf_counter() - start
    return petclf("predict", "series", work, GUNPOINT / "GunPoint_TEST.tsv", "-q")["accuracy"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: [measure(extra, seed, Path(tmp) / "run") for seed in seeds] for name, extra in SETUPS.items()}
    base = statistics.mean(a for a, _ in results["one process, --bs 16"])
    rows = []
    for name, runs in results.items():
        accuracy = [a for a, _ in runs]
        rows.append([f"`{name}`", f"{statistics.mean(accuracy):.3f} ± {statistics.stdev(accuracy):.3f}",
                     f"{statistics.mean(accuracy) / base:.2f}", " ".join(f"{a:.3f}" for a in accuracy),
                     f"{statistics.median(s for _, s in runs):.1f}"])
    table = markdown_table(["setup", "test accuracy", "ratio to one process", "per seed", "seconds a run (median)"],
                           rows)
    path = write_titled("distributed.md", "--devices 2 against one process",
                        f"`petclf train GunPoint_TRAIN.tsv {' '.join(COMMON)} --seed S` plus the setup, then `petclf "
                        f"predict series` on GunPoint_TEST.tsv (150 series, TTA on). Seeds "
                        f"{', '.join(map(str, seeds))}.\n\n{table}")
    print(f"{table}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
