"""Training on series files and predicting with `predict series` (GAF images made per batch)."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import SAMPLES, run, write_ucr
from PIL import Image

from petclf.model.file import SeriesInput, read_model
from petclf.model.stem import GafStem
from petclf.series.augment import window_slice
from petclf.series.fields import Imaging

GUNPOINT_TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
QUICK = ("--arch", "tf_efficientnet_lite0", "--size", "32", "--epochs", "2", "--bs", "16", "--folds", "1")


def train_series(data, out, *extra):
    result = run("train", data, *QUICK, "--out", out, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def gunpoint_run(tmp_path_factory, gunpoint):
    """The sample GunPoint training file, validated on 40 series of the test split."""
    _, X_test, _, y_test = gunpoint
    folder = tmp_path_factory.mktemp("series")
    valid = write_ucr(folder / "valid.tsv", X_test[:40], y_test[:40])
    return folder / "run", valid, train_series(GUNPOINT_TRAIN, folder / "run", "--valid", valid)


@pytest.mark.slow
def test_training_on_a_series_file_reports_series_metrics(gunpoint_run):
    folder, _, metrics = gunpoint_run
    assert metrics["input"] == "series" and metrics["channels"] == 1 and metrics["length"] == 150
    assert metrics["train_series"] == 50 and metrics["valid_series"] == 40 and metrics["epochs"] == 3
    assert metrics["lr"] == 1e-2 and metrics["lr_source"] == "default for series"  # no finder run
    assert not (folder / "lr_find.png").exists()
    with Image.open(folder / "batch.png") as batch:  # the fields of a batch: two classes' rows of 96 px tiles
        assert batch.height >= 2 * 96 and batch.width >= 4 * 96
    rows = list(csv.DictReader((folder / "valid_predictions.csv").open()))
    assert rows[0]["series"].endswith("valid.tsv:0") and len(rows) == 40


@pytest.mark.slow
def test_the_field_options_are_stored_in_the_model(gunpoint_run):
    folder, _, _ = gunpoint_run
    state, meta = read_model(folder)
    assert meta.input == "series" and meta.series == SeriesInput(1, 150, Imaging("gadf", 32, "viridis"))
    assert meta.classes == ["1", "2"] and "2.8.weight" in state  # stem, body, head: the head is 2
    assert not any(key.startswith("0.") for key in state)  # the stem has no weights


@pytest.mark.slow
def test_predict_series_matches_the_end_of_training_validation(gunpoint_run):
    folder, valid, _ = gunpoint_run
    result = run("predict", "series", folder, valid, "--json", "--no-tta")  # validation predicts each series once
    assert result.exit_code == 0, result.stderr
    predicted = json.loads(result.stdout)
    expected = list(csv.DictReader((folder / "valid_predictions.csv").open()))
    assert [p["label"] for p in predicted["predictions"]] == [row["predicted"] for row in expected]
    assert np.allclose([p["probability"] for p in predicted["predictions"]],
                       [float(row["confidence"]) for row in expected], atol=1e-4)
    right = sum(row["label"] == row["predicted"] for row in expected)
    assert predicted["accuracy"] == pytest.approx(right / 40)
    counts = predicted["confusion_matrix"]["counts"]
    assert predicted["confusion_matrix"]["classes"] == ["1", "2"] and sum(map(sum, counts)) == 40
    assert counts[0][0] + counts[1][1] == right


@pytest.mark.slow
def test_predict_series_prints_a_table_accuracy_and_confusion_matrix(gunpoint_run, tmp_path):
    folder, valid, _ = gunpoint_run
    result = run("predict", "series", folder, valid, "--confusion-plot", tmp_path / "cm.png", "-q")
    assert result.exit_code == 0, result.stderr
    assert "confusion matrix" in result.stdout and result.stdout.strip().splitlines()[-1].startswith("accuracy ")
    assert Image.open(tmp_path / "cm.png").size[0] > 100


@pytest.mark.slow
def test_unlabelled_series_are_predicted_without_a_score(gunpoint_run, tmp_path, gunpoint):
    folder, _, _ = gunpoint_run
    X_train = gunpoint[0]
    np.save(tmp_path / "new.npy", X_train[:5])
    predicted = json.loads(run("predict", "series", folder, tmp_path / "new.npy", "--json").stdout)
    assert len(predicted["predictions"]) == 5 and predicted["accuracy"] is None
    assert "true_label" not in predicted["predictions"][0]


def test_stem_pixels_are_the_png_pixels_tsimage_writes(tmp_path, gunpoint):
    X = gunpoint[0][:4]
    write_ucr(tmp_path / "s.tsv", X, [1, 2, 1, 2])
    assert run("tsimage", tmp_path / "s.tsv", tmp_path / "img", "--size", "48", "-q").exit_code == 0
    stem = GafStem(Imaging("gadf", 48, "viridis"), mean=[0.0] * 3, std=[1.0] * 3)  # leaves pixels / 255
    images = stem(torch.from_numpy(X).float()[:, None])
    for row, image in enumerate(images):
        png = np.asarray(Image.open(tmp_path / "img" / str(1 + row % 2) / f"{row:04d}.png").convert("RGB"))
        assert np.array_equal((image.permute(1, 2, 0) * 255).round().byte().numpy(), png)


@pytest.mark.slow
def test_multivariate_series_train_and_predict_as_a_mosaic(tmp_path, basic_motions):
    X_train, X_test, y_train, y_test = basic_motions
    np.savez(tmp_path / "train.npz", X=X_train[::2], y=y_train[::2])
    np.savez(tmp_path / "valid.npz", X=X_test[::4], y=y_test[::4])
    metrics = train_series(tmp_path / "train.npz", tmp_path / "run", "--valid", tmp_path / "valid.npz",
                           "--size", "16", "--epochs", "1", "--scaling", "dataset")
    assert metrics["channels"] == 6 and metrics["classes"] == sorted(set(y_train))
    field = read_model(tmp_path / "run")[1].series.imaging
    assert field.scaling == "dataset" and len(field.low) == len(field.high) == 6
    assert np.allclose(field.high, X_train[::2].max(axis=(0, 2)))  # the training series' maxima
    stem = GafStem(Imaging("gadf", 16, "viridis"), [0.5] * 3, [0.5] * 3)
    assert stem(torch.zeros(2, 6, 100).normal_()).shape == (2, 3, 32, 48)  # 2 x 3 tiles of 16 px
    predicted = run("predict", "series", tmp_path / "run", tmp_path / "valid.npz", "--json")
    assert predicted.exit_code == 0 and len(json.loads(predicted.stdout)["predictions"]) == 10


@pytest.mark.slow
def test_valid_pct_splits_the_training_file_with_the_seed(tmp_path):
    first = train_series(GUNPOINT_TRAIN, tmp_path / "a", "--valid-pct", "0.3", "--epochs", "0")
    assert first["train_series"] == 35 and first["valid_series"] == 15
    names = [r["series"] for r in csv.DictReader((tmp_path / "a" / "valid_predictions.csv").open())]
    assert all(name.startswith(f"{GUNPOINT_TRAIN}:") for name in names)


def test_window_slice_stretches_a_window_back_to_full_length():
    x = torch.linspace(0, 1, 100).repeat(8, 3, 1)
    assert torch.allclose(window_slice(x, min_scale=1.0), x, atol=1e-6)
    sliced = window_slice(x, min_scale=0.5, generator=torch.Generator().manual_seed(0))
    assert sliced.shape == x.shape and (sliced.diff(dim=-1) >= 0).all()  # still increasing
    span = sliced[..., -1] - sliced[..., 0]
    assert ((span >= 0.5 - 1e-6) & (span <= 1 + 1e-6)).all() and (span < 0.999).any()
    assert torch.equal(sliced[:, 0], sliced[:, 1])  # channels of one series share the window


@pytest.mark.slow
def test_lr_find_runs_on_a_series_file(tmp_path):
    result = run("lr-find", GUNPOINT_TRAIN, "--arch", "tf_efficientnet_lite0", "--size", "32", "--iters", "30",
                 "--plot", tmp_path / "lr.png", "--json")
    assert result.exit_code == 0, result.stderr
    assert set(json.loads(result.stdout)) >= {"valley", "slide", "minimum", "steep"}
    assert (tmp_path / "lr.png").stat().st_size > 0


def test_the_stem_s_dataset_bounds_move_with_the_model():
    stem = GafStem(Imaging("gadf", 16, "viridis", "dataset", [0.0], [1.0]), [0.5] * 3, [0.25] * 3)
    stem.to("meta")
    assert stem.low.device.type == "meta" and stem.high.device.type == "meta"
    assert "low" not in stem.state_dict()  # rebuilt from the metadata, not stored among the weights


def test_a_csv_with_its_label_last_is_refused_with_the_column_to_use(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    rows = [",".join([*map(repr, map(float, series)), str(label)]) for series, label in zip(X, y, strict=True)]
    (tmp_path / "last.csv").write_text("\n".join(rows) + "\n")
    result = run("train", tmp_path / "last.csv", *QUICK, "--out", tmp_path / "run")
    assert result.exit_code == 1 and "holds values such as" in result.stderr
    assert "If the labels are in the last column, pass --label-col -1" in result.stderr


@pytest.mark.slow
def test_predict_series_reads_the_label_column_the_model_was_trained_with(tmp_path, gunpoint):
    X, _, y, _ = gunpoint
    rows = [",".join([*map(repr, map(float, series)), str(label)]) for series, label in zip(X, y, strict=True)]
    (tmp_path / "last.csv").write_text("\n".join(rows) + "\n")
    train_series(tmp_path / "last.csv", tmp_path / "run", "--label-col", "-1", "--epochs", "0")
    assert read_model(tmp_path / "run")[1].series.label_col == "-1"
    result = run("predict", "series", tmp_path / "run", tmp_path / "last.csv", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] is not None
