"""Cross-validated ensembles (--folds K): K members in one model file, out-of-fold metrics, and
predictions that average the members, in torch and ONNX alike."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import SAMPLES, run, write_images

from petclf.calibration import scaled
from petclf.inference import load_classifier
from petclf.model.file import read_model
from petclf.model.load import trained_network
from petclf.series.readers import read_series

GUNPOINT_TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
QUICK = ("--arch", "tf_efficientnet_lite0", "--size", "32", "--epochs", "1", "--bs", "16")


@pytest.fixture(scope="module")
def series_ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble") / "run"
    result = run("train", GUNPOINT_TRAIN, *QUICK, "--folds", "3", "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)


@pytest.mark.slow
def test_every_training_series_is_validated_once_by_a_member_that_did_not_train_on_it(series_ensemble):
    folder, metrics = series_ensemble
    assert metrics["folds"] == 3 and metrics["validation"] == "out-of-fold" and metrics["valid_series"] == 50
    rows = list(csv.DictReader((folder / "valid_predictions.csv").open()))
    assert sorted(row["series"] for row in rows) == sorted(f"{GUNPOINT_TRAIN}:{i}" for i in range(50))
    assert {row["member"] for row in rows} == {"1", "2", "3"}
    right = [row["label"] == row["predicted"] for row in rows]
    assert metrics["accuracy"] == pytest.approx(sum(right) / 50)
    assert [m["valid_items"] for m in metrics["members"]] == [17, 17, 16]


@pytest.mark.slow
def test_the_model_file_holds_every_member_and_predict_averages_them(series_ensemble):
    folder, _ = series_ensemble
    state, meta = read_model(folder)
    assert meta.members == 3 and {key.split(".")[1] for key in state} == {"0", "1", "2"}
    X = read_series(GUNPOINT_TRAIN).X[:8]
    averaged = load_classifier(folder, "cpu", input="series").probabilities(X)
    each = []
    for k in range(3):
        member = trained_network(meta).eval()
        member.load_state_dict({key.split(".", 2)[2]: t for key, t in state.items() if key.startswith(f"members.{k}.")})
        with torch.inference_mode():
            each.append(member(torch.from_numpy(X)).softmax(1).numpy())
    calibrated = scaled(np.mean(each, 0), meta.temperature)  # averaged, then the run's temperature applied
    np.testing.assert_allclose(averaged, calibrated, atol=1e-5)


@pytest.mark.slow
def test_a_small_training_set_trains_an_ensemble_by_default_and_says_so(tmp_path):
    result = run("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "0", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    assert "; 50 series in 2 classes on cpu" in result.stderr  # the whole set: each member's split is said with it
    assert "50 series: training 5 models, each validated on its own stratified fold" in result.stderr
    assert "member 1 of 5: 40 training and 10 validation series" in result.stderr
    assert read_model(tmp_path / "run")[1].members == 5


@pytest.mark.slow
def test_an_image_ensemble_exports_to_onnx_and_predicts_the_same(tmp_path):
    write_images(tmp_path / "data", [f"{c}/{i}.png" for c in "ab" for i in range(6)])
    trained = run("train", tmp_path / "data", "--no-pretrained", "--arch", "resnet18", "--size", "32", "--bs", "4",
                  "--epochs", "1", "--lr", "1e-3", "--folds", "2", "--out", tmp_path / "run", "-q")
    assert trained.exit_code == 0, trained.stderr
    assert run("export", tmp_path / "run").exit_code == 0
    predictions = [json.loads(run("predict", "image", model, tmp_path / "data", "--json").stdout)
                   for model in (tmp_path / "run", tmp_path / "run" / "model.onnx")]
    assert [p["label"] for p in predictions[0]] == [p["label"] for p in predictions[1]]
    assert max(abs(a["probability"] - b["probability"]) for a, b in zip(*predictions, strict=True)) < 1e-3


@pytest.mark.slow
def test_a_series_ensemble_exports_to_onnx_and_predicts_the_same(series_ensemble, tmp_path):
    folder, _ = series_ensemble
    assert run("export", folder, "--out", tmp_path / "gp.onnx").exit_code == 0
    test = SAMPLES / "GunPoint" / "GunPoint_TEST.tsv"
    predictions = [json.loads(run("predict", "series", model, test, "--json").stdout)["predictions"]
                   for model in (folder, tmp_path / "gp.onnx")]
    assert sum(p["label"] != q["label"] for p, q in zip(*predictions, strict=True)) <= 1
    # the two engines' float32 products differ in the last bit, which takes a field value at a
    # colour-level boundary to the next level: a few pixels, so most probabilities agree to 1e-4
    assert np.median([abs(p["probability"] - q["probability"]) for p, q in zip(*predictions, strict=True)]) < 1e-4


def test_folds_with_a_given_validation_file_are_refused(tmp_path):
    result = run("train", GUNPOINT_TRAIN, *QUICK, "--folds", "3", "--valid", GUNPOINT_TRAIN, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "--folds 3 shares the training items out into validation folds itself" in result.stderr


@pytest.mark.slow
def test_a_dataset_scaled_ensemble_scales_every_member_with_the_bounds_of_all_its_series(tmp_path):
    result = run("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "0", "--folds", "2", "--scaling", "dataset",
                 "--out", tmp_path / "run", "-q")
    assert result.exit_code == 0, result.stderr
    X = read_series(GUNPOINT_TRAIN).X
    series = read_model(tmp_path / "run")[1].series
    assert (series.imaging.low, series.imaging.high) == ([float(X.min())], [float(X.max())])
