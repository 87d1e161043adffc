"""Does `petclf tune` beat the defaults on data neither saw? A fixed trial budget per data set, the
search scored on the training data only, then the defaults and `--config best.yaml` trained with
the same seeds and tested on held-out data: 400 scikit-learn digits the bundled ones do not include
(rows 900-1299), and UCR test files.

    .venv/bin/python bench/tune.py                               # about 30 minutes on 2 CPU cores (2026-12-01)
    .venv/bin/python bench/tune.py --datasets ArrowHead --trials 4 --seeds 0

Per data set: `petclf tune TRAIN --arch tf_efficientnet_lite0 --trials N` (seed 42, its default space),
then for each seed S `petclf train TRAIN --arch tf_efficientnet_lite0 --seed S` and the same with
`--config best.yaml`, each evaluated on the test data. Writes bench/results/tune.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from calibration import files, mean_sd  # noqa: E402
from common import markdown_table, write_titled  # noqa: E402
from ucr import ARCH, petclf  # noqa: E402


def accuracy(train: Path, test: Path, seed: int, work: Path, extra: list) -> float:
    petclf("train", train, *ARCH, "--seed", seed, "--out", work / "run", "--overwrite", "-q", *extra)
    return petclf("evaluate", work / "run", test, "--out", work / "eval", "--overwrite", "-q")["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="digits,ArrowHead,ItalyPowerDemand")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.datasets.split(","):
            train, test = files(name, tmp)
            start = time.perf_counter()
            found = petclf("tune", train, *ARCH, "--trials", args.trials, "--out", tmp / f"tune-{name}", "-q")
            tune_minutes = (time.perf_counter() - start) / 60
            best = tmp / f"tune-{name}" / "best.yaml"
            default = [{"accuracy": accuracy(train, test, seed, tmp, [])} for seed in seeds]
            tuned = [{"accuracy": accuracy(train, test, seed, tmp, ["--config", best])} for seed in seeds]
            options = " ".join(f"{k}={v}" for k, v in found["best"]["options"].items())
            gain = statistics.mean(r["accuracy"] for r in tuned) - statistics.mean(r["accuracy"] for r in default)
            rows.append([name, mean_sd(default, "accuracy"), mean_sd(tuned, "accuracy"), f"{gain:+.3f}",
                         f"{found['best']['valid_loss']:.4f}", options, f"{found['complete']}/{found['pruned']}",
                         f"{tune_minutes:.1f}"])
            print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["data (test)", "defaults", "tuned", "difference", "best objective", "best options",
                            "trials complete/pruned", "tune minutes"], rows)
    path = write_titled("tune.md", "petclf tune against the defaults, on data neither saw",
                        f"`petclf tune TRAIN --arch tf_efficientnet_lite0 --trials {args.trials}` (its default space, "
                        f"scored on the training data), then `petclf train TRAIN --arch tf_efficientnet_lite0 --seed S` "
                        f"with and without `--config best.yaml`, evaluated on the test data; digits: the bundled set, "
                        f"tested on scikit-learn digits 900-1299. Test accuracy, mean ± sd over seeds "
                        f"{', '.join(map(str, seeds))}.\n\n{table}")
    print(f"\n{table}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
