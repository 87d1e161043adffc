"""Frozen pretrained features and a ridge classifier for series (issue 26, lead 3), judged on the
UCR/UEA training files alone, the way bench/ucr_tune.py judges training recipes.

    .venv/bin/python bench/ucr_probe.py --datasets Coffee,ArrowHead,ACSF1

Each series becomes one image per encoding (``Imaging``, as a model's stem draws it); the
pretrained EfficientNet-Lite0 body, frozen, gives its globally pooled features; scikit-learn's
RidgeClassifierCV (its own leave-one-out choice of the penalty) is fitted on one stratified half
of the _TRAIN file and scored on the other (seeds 0, 1, 2: the same halves as ucr_tune.py). The
_TEST files are not read. Encodings: each alone, and their features side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, machine, markdown_table  # noqa: E402
from ucr import as_arrays, load  # noqa: E402

ENCODINGS = ("gadf", "seg")
SIZE = 128


def features(X, method: str):
    """Pooled features of the frozen pretrained body for series ``(n, C, L)``."""
    import torch

    from petclf.model import build as network
    from petclf.model import weights
    from petclf.model.backbones import find_arch
    from petclf.series.fields import Imaging

    arch = find_arch("tf_efficientnet_lite0")
    backbone, _ = weights.pretrained_backbone(arch)
    net, _ = network.build(arch, 2, backbone)
    body, pool = net[0].eval(), net[1][:2]  # the body and the head's pooling (average and max, concatenated)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in network.normalization(arch))
    out = []
    with torch.no_grad():
        for start in range(0, len(X), 32):
            pixels = Imaging(method, SIZE).draw(torch.from_numpy(X[start:start + 32]))
            images = (pixels.permute(0, 3, 1, 2).float() / 255 - mean) / std
            out.append(pool(body(images)).numpy())
    import numpy as np

    return np.concatenate(out)


def halves(y, seeds: list[int]):
    import numpy as np
    from sklearn.model_selection import train_test_split

    return [train_test_split(np.arange(len(y)), test_size=0.5, stratify=y, random_state=seed) for seed in seeds]


def score(F, y, fit, held) -> float:
    import numpy as np
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 13)))
    return float(model.fit(F[fit], y[fit]).score(F[held], y[held]))


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="GunPoint,Coffee,ArrowHead,ItalyPowerDemand,ACSF1,OSULeaf,PigCVP")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for name in args.datasets.split(","):
        X_train, X_test, y_train, _ = load(name)
        X, _ = as_arrays(X_train, X_test)
        y = np.asarray(y_train).astype(str)
        start = time.perf_counter()
        encoded = {method: features(X, method) for method in ENCODINGS}
        seconds = time.perf_counter() - start
        encoded["+".join(ENCODINGS)] = np.concatenate([encoded[m] for m in ENCODINGS], axis=1)
        splits = halves(y, seeds)
        for method, F in encoded.items():
            accuracy = [score(F, y, fit, held) for fit, held in splits]
            rows.append([name, method, " ".join(f"{a:.2f}" for a in accuracy), f"{statistics.mean(accuracy):.3f}",
                         f"{seconds:.0f}"])
            print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["dataset", "encoding", "held-out accuracy per half", "mean", "feature seconds (all)"],
                           rows)
    path = RESULTS / "ucr-probe.md"
    if not path.exists():
        path.write_text("# Frozen pretrained features + ridge, on held-out halves of the UCR training files "
                        "(bench/ucr_probe.py)\n")
    with path.open("a") as results:
        results.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')}: stratified halves, seeds {args.seeds}\n\n"
                      f"Machine: {machine()}\n\n{table}\n")
    print(f"\n{table}\n\nadded to {path}")


if __name__ == "__main__":
    main()
