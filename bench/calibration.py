"""Can petclf's probabilities be trusted? Calibration error before and after the temperature a
model keeps, and how often its conformal prediction sets hold the true label, measured on data no
training saw: 400 scikit-learn digits the bundled ones do not include (rows 900-1299), and UCR
test files.

    .venv/bin/python bench/calibration.py                       # about 20 minutes on 2 CPU cores
    .venv/bin/python bench/calibration.py --datasets GunPoint --seeds 0

Per dataset and seed, as a user would: `petclf train TRAIN --arch tf_efficientnet_lite0 --seed S`
(the defaults), then `petclf evaluate RUN TEST --coverage 0.9 --json`. The reference is the same
model uncalibrated (`evaluate` reports both). Writes bench/results/calibration.md.
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
from imbalance import DIGITS, held_out  # noqa: E402
from ucr import ARCH, petclf, write_dataset  # noqa: E402

COVERAGE = 0.9
GOALS = "ECE after <= 0.05; coverage 0.90 +- 0.03 (mean over seeds)"


def measure(train: Path, test: Path, seed: int, work: Path) -> dict:
    start = time.perf_counter()
    petclf("train", train, *ARCH, "--seed", seed, "--out", work / "run", "--overwrite", "-q")
    report = petclf("evaluate", work / "run", test, "--coverage", COVERAGE, "--out", work / "eval", "--overwrite", "-q")
    quality, sets = report["calibration"], report["sets"]
    return {"accuracy": report["accuracy"], "ece_before": quality["before"]["ece"], "ece_after": quality["after"]["ece"],
            "nll_before": quality["before"]["nll"], "nll_after": quality["after"]["nll"],
            "temperature": quality["temperature"], "covered": sets["covered"], "set_size": sets["mean_set_size"],
            "minutes": (time.perf_counter() - start) / 60}


def files(name: str, folder: Path) -> tuple[Path, Path]:
    if name == "digits":
        return DIGITS, held_out(folder / "digits-test")
    return write_dataset(name, folder)


def mean_sd(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.3f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="digits,GunPoint,Coffee,ArrowHead,ItalyPowerDemand")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.datasets.split(","):
            train, test = files(name, tmp)
            runs = [measure(train, test, seed, tmp) for seed in seeds]
            after, before = (statistics.mean(r[k] for r in runs) for k in ("ece_after", "ece_before"))
            rows.append([name, mean_sd(runs, "accuracy"), mean_sd(runs, "ece_before"), mean_sd(runs, "ece_after"),
                         f"{after / before:.2f}" if before else "–", mean_sd(runs, "nll_before"), mean_sd(runs, "nll_after"),
                         mean_sd(runs, "temperature"), mean_sd(runs, "covered"), mean_sd(runs, "set_size"),
                         f"{statistics.mean(r['minutes'] for r in runs):.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["data (test)", "accuracy", "ECE before", "ECE after", "ratio", "NLL before", "NLL after",
                            "temperature", f"coverage at {COVERAGE}", "mean set size", "minutes"], rows)
    path = write_titled("calibration.md", "Calibration and conformal prediction sets on data no training saw",
                        f"`petclf train DATA --arch tf_efficientnet_lite0 --seed S` (defaults), then `petclf evaluate "
                        f"RUN TEST --coverage {COVERAGE}`; digits: the bundled set, tested on scikit-learn digits "
                        f"900-1299; UCR: the _TRAIN and _TEST files. Mean ± sd over seeds "
                        f"{', '.join(map(str, seeds))}. Goals (issue 22): {GOALS}.\n\n{table}")
    print(f"\n{table}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
