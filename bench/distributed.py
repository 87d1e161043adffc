"""Training on two devices (`--devices 2`, two processes over gloo on this CPU) against one
process, for one model and for an ensemble: GunPoint's training file, EfficientNet-Lite0 at 64 px
for 10 epochs, each seed's run predicting the GunPoint test file.

    .venv/bin/python bench/distributed.py                # about 30 minutes on 2 CPU cores
    .venv/bin/python bench/distributed.py --seeds 0,1,2,3,4

One model (`--folds 1`): one process with a batch of 16 against two data-parallel processes
with 8 each (the same batch of 16 a step). An ensemble (`--folds 5 --member fine-tune`): its
members one after another in one process; each data-parallel on both processes, one after
another (8 a process); and side by side, one a process, each with its whole batch of 16 (what
`--devices` does for an ensemble). The ensemble runs are timed in this process (training only);
the one-model runs as commands.

Writes bench/results/distributed.md: test accuracy (mean ± sd over seeds), seconds a run, and
each setup's ratio to one process. On a CPU the processes share the same cores, so this checks
that the models are as good and what the processes cost each other; the speed-up is a GPU's to show.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import markdown_table, write_titled  # noqa: E402
from ucr import ARCH, petclf  # noqa: E402

GUNPOINT = Path(__file__).resolve().parent.parent / "samples" / "GunPoint"
COMMON = [*ARCH, "--size", "64", "--epochs", "10"]
ONE_MODEL = {"one process, --bs 16": ["--bs", "16"], "--devices 2 --bs 8": ["--devices", "2", "--bs", "8"]}
FOLDS = 5
ENSEMBLE = {"one process, --bs 16": (1, 16, False), "members data-parallel, 8 a process": (2, 8, True),
            "members side by side, --bs 16": (2, 16, False)}


def one_model(extra: list[str], seed: int, work: Path) -> tuple[float, float]:
    start = time.perf_counter()
    petclf("train", GUNPOINT / "GunPoint_TRAIN.tsv", *COMMON, "--folds", "1", *extra, "--seed", seed, "--out", work,
           "--overwrite", "-q")
    seconds = time.perf_counter() - start
    return test_accuracy(work), seconds


def ensemble(setup: tuple[int, int, bool], seed: int, work: Path) -> tuple[float, float]:
    """An ensemble trained through the library: with ``data_parallel``, inside a data-parallel
    group as ``--devices`` trained ensembles before members went side by side."""
    from petclf.training import distributed
    from petclf.training.recipe import TrainOptions
    from petclf.training.run import train
    from petclf.training.source import load, source_of

    devices, bs, data_parallel = setup
    source = source_of(GUNPOINT / "GunPoint_TRAIN.tsv", None, 0.2, None, False, None, "0", "pad")
    data = load(source, seed, quiet=True)
    options = TrainOptions(arch=ARCH[1], size=64, epochs=10, folds=FOLDS, member="fine-tune", bs=bs, seed=seed,
                           devices=devices, device="cpu")
    start = time.perf_counter()
    if data_parallel:
        distributed.run_parallel(train, devices, "cpu", data=data, options=options, out=work, overwrite=True,
                                 quiet=True, source=source)
    else:
        train(data, replace(options, devices=devices), work, overwrite=True, quiet=True, source=source)
    seconds = time.perf_counter() - start
    return test_accuracy(work), seconds


def test_accuracy(run: Path) -> float:
    return petclf("predict", "series", run, GUNPOINT / "GunPoint_TEST.tsv", "-q")["accuracy"]


def table(results: dict[str, list[tuple[float, float]]]) -> str:
    base = statistics.mean(a for a, _ in next(iter(results.values())))
    base_seconds = statistics.median(s for _, s in next(iter(results.values())))
    rows = []
    for name, runs in results.items():
        accuracy, seconds = [a for a, _ in runs], statistics.median(s for _, s in runs)
        rows.append([f"`{name}`", f"{statistics.mean(accuracy):.3f} ± {statistics.stdev(accuracy):.3f}",
                     f"{statistics.mean(accuracy) / base:.2f}", " ".join(f"{a:.3f}" for a in accuracy),
                     f"{seconds:.1f}", f"{seconds / base_seconds:.2f}"])
    return markdown_table(["setup", "test accuracy", "accuracy ratio to one process", "per seed",
                           "seconds a run (median)", "time ratio to one process"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "run"
        models = {name: [one_model(extra, seed, work) for seed in seeds] for name, extra in ONE_MODEL.items()}
        ensembles = {name: [ensemble(setup, seed, work) for seed in seeds] for name, setup in ENSEMBLE.items()}
    tables = (f"## One model\n\n`petclf train GunPoint_TRAIN.tsv {' '.join(COMMON)} --folds 1 --seed S` plus the "
              f"setup (the whole command timed).\n\n{table(models)}\n\n"
              f"## An ensemble of {FOLDS}\n\nThe same recipe with `--folds {FOLDS} --member fine-tune` (training "
              f"timed, in this process).\n\n{table(ensembles)}")
    path = write_titled("distributed.md", "Two devices against one process",
                        f"Each run then `petclf predict series` on GunPoint_TEST.tsv (150 series, TTA on). Seeds "
                        f"{', '.join(map(str, seeds))}.\n\n{tables}")
    print(f"{tables}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
