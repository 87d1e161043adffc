"""petclf as a library (petclf/api.py): the calls a notebook makes, in-process, with no command line."""

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import make_model, run, write_images

import petclf
from petclf.errors import UsageError

SAMPLES = Path(__file__).parent.parent / "samples"
GUNPOINT_TRAIN, GUNPOINT_TEST = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv", SAMPLES / "GunPoint" / "GunPoint_TEST.tsv"


def test_importing_petclf_loads_neither_torch_nor_numpy():
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import petclf, sys; print('torch' in sys.modules, "
                                                   "'numpy' in sys.modules, 'fastai' in sys.modules)"],
                            capture_output=True, text=True, check=True).stdout
    assert loaded.split() == ["False", "False", "False"]


@pytest.mark.slow
def test_train_load_predict_and_evaluate_as_a_library(tmp_path):
    report = petclf.train(GUNPOINT_TRAIN, tmp_path / "run", arch="tf_efficientnet_lite0", size=32, folds=1, seed=0)
    assert (report.folder / "model.safetensors").is_file() and report.metrics["input"] == "series"
    model = petclf.load_model(report.folder)
    from_file = petclf.predict(model, GUNPOINT_TEST)
    assert len(from_file) == 150 and from_file[0].item == "0"
    assert set(from_file[0].probabilities) == {"1", "2"}
    assert from_file[0].probability == max(from_file[0].probabilities.values())
    X = np.loadtxt(GUNPOINT_TEST)[:, 1:]
    assert [p.label for p in petclf.predict(model, X)] == [p.label for p in from_file]  # an array as the file
    summary = petclf.evaluate(model, GUNPOINT_TEST)
    true = np.loadtxt(GUNPOINT_TEST)[:, 0].astype(int).astype(str)
    assert summary["accuracy"] == pytest.approx(np.mean([p.label for p in from_file] == true))
    assert summary["accuracy"] > 0.7 and {"before", "after"} <= set(summary["calibration"])
    with pytest.raises(UsageError, match="a ridge run is fitted, not trained: it has no epochs to add"):
        petclf.resume(report.folder, epochs=2)  # what train --resume RUN --epochs 2 says


def test_predict_images_with_a_model_path(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    files = write_images(tmp_path / "images", ["a.png", "b/c.png"])
    found = petclf.predict(tmp_path / "m.safetensors", tmp_path / "images")
    assert [Path(p.item) for p in found] == sorted(files) and {p.label for p in found} <= {"c0", "c1"}
    assert model.is_file()


def test_an_image_that_cannot_be_read_raises_with_its_name(tmp_path):
    make_model(tmp_path / "m.safetensors")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match=re.escape(str(tmp_path / "broken.png"))):
        petclf.predict(tmp_path / "m.safetensors", [tmp_path / "broken.png"])


def test_unknown_train_options_are_named():
    with pytest.raises(UsageError, match=re.escape("train() got unknown options: epoch, learning_rate")):
        petclf.train(GUNPOINT_TRAIN, "unused", epoch=3, learning_rate=0.1)


def test_series_to_images_draws_what_tsimage_writes(tmp_path):
    from PIL import Image

    images = petclf.series_to_images(GUNPOINT_TRAIN, method="gadf", size=32)
    assert images.shape == (50, 32, 32, 3) and images.dtype == np.uint8
    assert run("tsimage", GUNPOINT_TRAIN, tmp_path / "out", "--size", "32", "-q").exit_code == 0
    first = tmp_path / "out" / (tmp_path / "out" / "manifest.csv").read_text().splitlines()[1].split(",")[1]  # row 0
    np.testing.assert_array_equal(np.asarray(Image.open(first).convert("RGB")), images[0])


def test_an_array_of_series_is_read_as_a_file_is():
    X = np.tile(np.sin(np.linspace(0, 6, 40)), (3, 1))
    X[0, 10] = np.nan  # a gap, filled as in a file
    assert np.isfinite(petclf.series_to_images(X, size=16)).all()
    X[1, 5] = np.inf
    with pytest.raises(petclf.errors.DataError, match="series 1 contains infinite"):
        petclf.series_to_images(X, size=16)


@pytest.mark.parametrize("shape, method, drawn", [((4, 60), "gadf", (4, 16, 16, 3)),
                                                  ((4, 2, 60), "gadf", (4, 16, 32, 3)),  # two tiles
                                                  ((4, 60), "seg,rp", (4, 16, 32, 3))])  # two views
def test_series_to_images_takes_arrays(shape, method, drawn):
    X = np.random.default_rng(0).normal(size=shape)
    assert petclf.series_to_images(X, method=method, size=16).shape == drawn
