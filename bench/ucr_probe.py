"""Frozen pretrained features and a ridge classifier for series (issue 26), judged on the UCR/UEA
training files alone, beside MiniRocket on the same halves.

    .venv/bin/python bench/ucr_probe.py --datasets Coffee,ArrowHead,ACSF1
    .venv/bin/python bench/ucr_probe.py --datasets JapaneseVowels --methods "mat;seg,rp,gadf" --size 64
    .venv/bin/python bench/ucr_probe.py --datasets PickupGestureWiimoteZ --lengths "pad;resample"
    .venv/bin/python bench/ucr_probe.py --rocket      # also: the features beside MiniRocket's, as petclf fits them

Each series is drawn as a ridge member's stem draws it (``--methods``: each a ``--method``, views
joined by ','), and the features are those a ridge member reads: the pretrained
EfficientNet-Lite0 body's middle feature levels, each view apart (``network.build(head="linear")``,
model/layers.py ``LevelPool``). scikit-learn's RidgeClassifierCV (its own leave-one-out choice of the
penalty) is fitted on one stratified half of the _TRAIN file and scored on the other (seeds 0, 1, 2:
the halves of ucr_tune.py); aeon's MiniRocket is fitted and scored on the same halves. The _TEST
files are not read. Unlike `petclf train`, one ridge fits the whole half (no ensemble of folds), so
sets of one series a class (PigCVP's halves) can be probed too.

Series of unequal length are made one length as ``--lengths`` says: ``resample`` (what petclf
does, ``readers.uniform``), or padded at their end to the longest, ``edge`` with each channel's last
value, ``zero`` with zeros MiniRocket always gets
them resampled, as in the panel.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, machine, markdown_table  # noqa: E402
from ucr import as_arrays, load  # noqa: E402

ARCH = "tf_efficientnet_lite0"


def features(X, method: str, size: int):
    """A ridge member's features of series ``(n, C, L)``: its stem's drawing through its body."""
    import numpy as np
    import torch

    from petclf.model import build as network
    from petclf.model import weights
    from petclf.model.backbones import find_arch
    from petclf.model.stem import GafStem
    from petclf.series.fields import Imaging

    arch = find_arch(ARCH)
    imaging = Imaging(method, size)
    backbone, _ = weights.pretrained_backbone(arch)
    net, _ = network.build(arch, 2, backbone, head="linear", views=imaging.views)
    stem, body = GafStem(imaging, *network.normalization(arch)), net[0].eval()
    with torch.no_grad():
        return np.concatenate([body(stem(torch.from_numpy(X[start:start + 32]))).numpy()
                               for start in range(0, len(X), 32)])


def equal_length(X_train, how: str):
    """The training file's series ``(n, C, L)`` at one length, made so as ``how`` (readers.FITS) says."""
    from petclf.series.readers import uniform

    return uniform(Path("train"), X_train, fit=how)[0] if isinstance(X_train, list) else as_arrays(X_train, X_train)[0]


def halves(y, seeds: list[int]):
    import numpy as np
    from sklearn.model_selection import train_test_split

    return [train_test_split(np.arange(len(y)), test_size=0.5, stratify=y, random_state=seed) for seed in seeds]


def score(F, y, fit, held, alphas=None) -> float:
    """Held-out accuracy of a ridge member's classifier (petclf's penalty grid, or ``alphas``)."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from petclf.training.ridge import ALPHAS

    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=ALPHAS if alphas is None else alphas))
    return float(model.fit(F[fit], y[fit]).score(F[held], y[held]))


def penalty_grid(text: str):
    """``LOW,HIGH`` as powers of ten, two a decade and both ends (13 for 1e-3..1e3), and how a row
    names it; '' is petclf's own grid (label '', alphas None)."""
    import numpy as np

    if not text:
        return "", None
    low, high = map(float, text.split(","))
    return f", alphas 1e{low:g}..1e{high:g}", np.logspace(low, high, 1 + 2 * round(high - low))


def with_rocket(F, X, fit, seed: int):
    """``F`` beside MiniRocket's features of ``X`` (series/rocket.py), fitted on the ``fit`` half
    as a ridge member fits them on its training items."""
    import numpy as np
    import torch

    from petclf.series.rocket import fit_rocket

    rocket = fit_rocket(X[fit], seed)
    with torch.no_grad():
        found = np.concatenate([rocket(torch.from_numpy(X[i:i + 32]).float()).numpy() for i in range(0, len(X), 32)])
    return np.concatenate([F, found], 1)


def minirocket(X, y, fit, held, seed: int) -> float:
    from aeon.classification.convolution_based import MiniRocketClassifier

    model = MiniRocketClassifier(random_state=seed).fit(X[fit], y[fit])
    return float((model.predict(X[held]) == y[held]).mean())


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="GunPoint,Coffee,ArrowHead,ItalyPowerDemand,ACSF1,OSULeaf,PigCVP")
    parser.add_argument("--methods", default="seg,rp,gadf", help="';'-separated --method values to compare")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--alphas", default="", help="';'-separated ridge penalty grids as exponents LOW,HIGH "
                                                      "(13 per 6 decades); default: petclf's (training/ridge.py)")
    parser.add_argument("--lengths", default="pad", help="';'-separated: pad, resample (unequal lengths)")
    parser.add_argument("--rocket", action="store_true", help="also score each with MiniRocket's features beside")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for name in args.datasets.split(","):
        X_train, X_test, y_train, _ = load(name)
        X, _ = as_arrays(X_train, X_test)
        y = np.asarray(y_train).astype(str)
        splits = halves(y, seeds)
        reference = [minirocket(X, y, fit, held, seed) for (fit, held), seed in zip(splits, seeds, strict=True)]
        for method, lengths in itertools.product(args.methods.split(";"), args.lengths.split(";")):
            start = time.perf_counter()
            series = equal_length(X_train, lengths)
            F = features(series, method, args.size)
            seconds = time.perf_counter() - start
            for (shown_grid, alphas), rocket in itertools.product(map(penalty_grid, args.alphas.split(";")),
                                                                  [False, True] if args.rocket else [False]):
                accuracy = [score(with_rocket(F, series, fit, seed) if rocket else F, y, fit, held, alphas)
                            for (fit, held), seed in zip(splits, seeds, strict=True)]
                shown = (f" {lengths}" if isinstance(X_train, list) else "") + shown_grid + (" + MiniRocket's" if rocket else "")
                rows.append([name, f"`{method}` {args.size}px{shown}", " ".join(f"{a:.2f}" for a in accuracy),
                             f"{statistics.mean(accuracy):.3f}", f"{statistics.mean(reference):.3f}",
                             f"{statistics.mean(accuracy) / statistics.mean(reference):.2f}", f"{seconds:.0f}"])
                print(" | ".join(rows[-1]), flush=True)
    table = markdown_table(["dataset", "images", "held-out accuracy per half", "mean", "MiniRocket, same halves",
                            "ratio", "feature seconds (all)"], rows)
    path = RESULTS / "ucr-probe.md"
    if not path.exists():
        path.write_text("# Frozen pretrained features + ridge, on held-out halves of the UCR training files "
                        "(bench/ucr_probe.py)\n")
    with path.open("a") as results:
        results.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')}: stratified halves, seeds {args.seeds}\n\n"
                      f"Machine: {machine()}\n\n`{' '.join(sys.argv)}`\n\n{table}\n")
    print(f"\n{table}\n\nadded to {path}")


if __name__ == "__main__":
    main()
