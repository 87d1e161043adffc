"""What `--balance` does on imbalanced real data: the bundled digits with three classes cut to
10 % (3 of 30 images), trained with the defaults and with `--balance weights|sample`, then
measured with `petclf evaluate` on 400 other scikit-learn digits (rows 900-1299, about 40 a
class, never trained on or chosen with).

    .venv/bin/python bench/imbalance.py                 # about 10 minutes on 2 CPU cores
    .venv/bin/python bench/imbalance.py --seeds 0

Writes bench/results/imbalance.md: accuracy, macro-F1 and the cut classes' recall, mean over
seeds, and each remedy's ratio to the unbalanced run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import markdown_table, write_titled  # noqa: E402
from ucr import ARCH, petclf  # noqa: E402

DIGITS = Path(__file__).resolve().parent.parent / "samples" / "digits"
CUT = ("1", "4", "7")
RECIPES = {"defaults": [], "--balance weights": ["--balance", "weights"], "--balance sample": ["--balance", "sample"]}


def imbalanced(folder: Path) -> Path:
    for label in sorted(p.name for p in DIGITS.iterdir() if p.is_dir()):
        images = sorted((DIGITS / label).glob("*.png"))
        (folder / label).mkdir(parents=True)
        for image in images[:3] if label in CUT else images:
            shutil.copy(image, folder / label / image.name)
    return folder


def held_out(folder: Path) -> Path:
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i in range(900, 1300):
        (folder / str(digits.target[i])).mkdir(parents=True, exist_ok=True)
        pixels = np.round(digits.images[i] * 255 / 16).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / str(digits.target[i]) / f"{i:04d}.png")
    return folder


def measure(train: Path, test: Path, extra: list[str], seed: int, work: Path) -> dict:
    start = time.perf_counter()
    petclf("train", train, *ARCH, "--seed", seed, "--out", work / "run", "--overwrite", "-q", *extra)
    report = petclf("evaluate", work / "run", test, "--out", work / "eval", "--overwrite", "-q")
    recall = {row["class"]: row["recall"] for row in report["classes"]}
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_avg"]["f1"],
            "cut_recall": statistics.mean(recall[c] for c in CUT), "minutes": (time.perf_counter() - start) / 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, test = imbalanced(tmp / "train"), held_out(tmp / "test")
        results = {name: [measure(train, test, extra, seed, tmp) for seed in seeds] for name, extra in RECIPES.items()}
    base = {key: statistics.mean(r[key] for r in results["defaults"]) for key in ("accuracy", "macro_f1", "cut_recall")}
    rows = []
    for name, runs in results.items():
        mean = {key: statistics.mean(r[key] for r in runs) for key in ("accuracy", "macro_f1", "cut_recall", "minutes")}
        rows.append([f"`{name}`", f"{mean['accuracy']:.3f}", f"{mean['macro_f1']:.3f}",
                     f"{mean['macro_f1'] / base['macro_f1']:.2f}", f"{mean['cut_recall']:.3f}",
                     " ".join(f"{r['macro_f1']:.3f}" for r in runs), f"{mean['minutes']:.1f}"])
    table = markdown_table(["recipe", "accuracy", "macro-F1", "macro-F1 / defaults'", f"recall of {', '.join(CUT)}",
                            "macro-F1 per seed", "minutes"], rows)
    path = write_titled("imbalance.md", "--balance on imbalanced digits",
                        f"Bundled digits, classes {', '.join(CUT)} cut to 3 images each; `petclf train --arch "
                        f"tf_efficientnet_lite0 --seed S` (thumbnail defaults) plus the recipe; `petclf evaluate` on "
                        f"scikit-learn digits 900-1299. Means over seeds {', '.join(map(str, seeds))}.\n\n{table}")
    print(f"{table}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
