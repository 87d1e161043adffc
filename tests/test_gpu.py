"""The GPU path end to end, run only where CUDA is present (skipped elsewhere): training in fp16
and bf16 mixed precision, images and series made on the fly on the device, dataset scaling
after the model moved there, and predictions that agree with the CPU's."""

import json

import numpy as np
import pytest
import torch
from conftest import DIGITS, SAMPLES, run

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
GUNPOINT = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
SMALL = ["--arch", "tf_efficientnet_lite0", "--epochs", "2", "--folds", "1", "--device", "cuda"]


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_images_train_in_mixed_precision_and_predict_as_on_the_cpu(tmp_path, precision):
    result = run("train", DIGITS, *SMALL, "--precision", precision, "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["device"].startswith("cuda") and metrics["accuracy"] > 0.5
    images = sorted(DIGITS.glob("*/*.png"))[:32]
    on = {device: json.loads(run("predict", "image", tmp_path / "run", *images, "--device", device, "--json").stdout)
          for device in ("cuda", "cpu")}
    assert [p["label"] for p in on["cuda"]] == [p["label"] for p in on["cpu"]]
    assert np.allclose([p["probability"] for p in on["cuda"]], [p["probability"] for p in on["cpu"]], atol=1e-3)


@pytest.mark.parametrize("scaling", ["series", "dataset"])
def test_series_images_are_made_on_the_gpu_with_either_scaling(tmp_path, scaling):
    result = run("train", GUNPOINT, *SMALL, "--scaling", scaling, "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["device"].startswith("cuda")
    test = SAMPLES / "GunPoint" / "GunPoint_TEST.tsv"
    on = {device: json.loads(run("predict", "series", tmp_path / "run", test, "--device", device, "--json").stdout)
          for device in ("cuda", "cpu")}
    assert on["cuda"]["accuracy"] == on["cpu"]["accuracy"] > 0.6


def test_an_ensemble_trains_and_evaluates_on_the_gpu(tmp_path):
    result = run("train", GUNPOINT, "--arch", "tf_efficientnet_lite0", "--epochs", "2", "--folds", "3",
                 "--device", "cuda", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    report = run("evaluate", tmp_path / "run", SAMPLES / "GunPoint" / "GunPoint_TEST.tsv", "--device", "cuda",
                 "--out", tmp_path / "eval", "--json")
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["items"] == 150
