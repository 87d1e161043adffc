"""Series of different lengths and with gaps: UEA .ts files with @equalLength false (aeon ships
real ones), ragged and NaN-padded text, NaN-padded .npz; read, trained on, predicted, exported."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run

from petclf.series.readers import read_series

AEON = Path(__import__("aeon").__file__).parent / "datasets" / "data"
WIIMOTE = AEON / "PickupGestureWiimoteZ"
VOWELS = AEON / "JapaneseVowels"


def ts_lengths(path: Path) -> list[int]:
    """The length of each series of a univariate .ts file, counted from its text."""
    rows = path.read_text().split("@data", 1)[1].split()
    return [len(row.split(":")[0].split(",")) for row in rows if ":" in row]


@pytest.mark.parametrize("fit", ["pad", "resample"])
def test_a_ts_file_of_unequal_lengths_is_made_as_long_as_its_longest(fit):
    lengths = ts_lengths(WIIMOTE / "PickupGestureWiimoteZ_TRAIN.ts")
    assert len(set(lengths)) > 10  # really of unequal length
    series = read_series(WIIMOTE / "PickupGestureWiimoteZ_TRAIN.ts", fit=fit)
    assert series.X.shape == (50, 1, max(lengths)) and series.uneven
    assert len(series.classes) == 10 and np.isfinite(series.X).all()
    first = np.array(WIIMOTE.joinpath("PickupGestureWiimoteZ_TRAIN.ts").read_text().split("@data", 1)[1]
                     .split()[0].split(":")[0].split(","), dtype=float)
    assert series.X[0, 0, 0] == pytest.approx(first[0])
    end = len(first) - 1 if fit == "pad" else -1  # padding keeps the series where it was, then zeros
    assert series.X[0, 0, end] == pytest.approx(first[-1])
    if fit == "pad":
        assert len(first) < max(lengths) and not series.X[0, 0, len(first):].any()


def test_twelve_channels_of_unequal_length_read_as_one_array():
    series = read_series(VOWELS / "JapaneseVowels_TRAIN.ts")
    assert series.X.shape[:2] == (270, 12) and series.uneven and len(series.classes) == 9


@pytest.mark.parametrize("text", [
    "a\t1\t2\t3\t4\t5\nb\t5\t3\t1\n",  # ragged rows
    "a\t1\t2\t3\t4\t5\nb\t5\t3\t1\tnan\tnan\n",  # NaN-padded, as UCR's unequal-length files
    "a\t1\t2\t3\t4\t5\nb\t5\t3\t1\t\t\n",  # empty cells
])
@pytest.mark.parametrize("fit, short", [("pad", [5, 3, 1, 0, 0]), ("resample", [5, 4, 3, 2, 1])])
def test_ragged_and_padded_rows_read_alike(tmp_path, text, fit, short):
    series = read_series(_written(tmp_path / "s.tsv", text), fit=fit)
    np.testing.assert_allclose(series.X[:, 0], [[1, 2, 3, 4, 5], short])


@pytest.mark.parametrize("fit", ["pad", "resample"])
def test_a_series_longer_than_a_model_reads_is_resampled_down(tmp_path, fit):
    series = read_series(_written(tmp_path / "s.tsv", "a\t1\t2\t3\t4\t5\nb\t5\t1\n"), length=3, fit=fit)
    np.testing.assert_allclose(series.X[0, 0], [1, 3, 5])
    np.testing.assert_allclose(series.X[1, 0], [5, 1, 0] if fit == "pad" else [5, 3, 1])


def test_a_gap_inside_a_series_is_interpolated(tmp_path):
    series = read_series(_written(tmp_path / "s.csv", "a,1,nan,nan,4,5\nb,2,2,2,2,2\n"))
    np.testing.assert_allclose(series.X[0, 0], [1, 2, 3, 4, 5])
    np.testing.assert_allclose(series.X[1, 0], [2, 2, 2, 2, 2])


def test_a_nan_padded_npz_reads_as_the_same_series(tmp_path):
    X = np.array([[1, 2, 3, 4, 5], [5, 3, 1, np.nan, np.nan]])
    np.savez(tmp_path / "s.npz", X=X, y=np.array(["a", "b"]))
    np.testing.assert_allclose(read_series(tmp_path / "s.npz").X[:, 0], [[1, 2, 3, 4, 5], [5, 3, 1, 0, 0]])


def test_equal_complete_series_are_left_as_they_are(tmp_path):
    series = read_series(_written(tmp_path / "s.tsv", "a\t1\t9\t3\nb\t4\t5\t6\n"))
    assert not series.uneven and series.X.tolist() == [[[1, 9, 3]], [[4, 5, 6]]]
    assert read_series(tmp_path / "s.tsv", length=5).X.shape == (2, 1, 5)  # as a model of varying length reads it


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.slow
def test_a_model_of_varying_length_predicts_evaluates_explains_and_exports(tmp_path):
    train, test = WIIMOTE / "PickupGestureWiimoteZ_TRAIN.ts", WIIMOTE / "PickupGestureWiimoteZ_TEST.ts"
    trained = run("train", train, "--arch", "tf_efficientnet_lite0", "--size", "32", "--epochs", "1", "--folds", "1",
                  "--out", tmp_path / "run", "--json")
    assert trained.exit_code == 0, trained.stderr
    predicted = run("predict", "series", tmp_path / "run", test, "--json")
    assert predicted.exit_code == 0, predicted.stderr
    labels = [p["label"] for p in json.loads(predicted.stdout)["predictions"]]
    assert len(labels) == 50
    evaluated = run("evaluate", tmp_path / "run", test, "--out", tmp_path / "eval", "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    explained = run("explain", tmp_path / "run", test, "--rows", "2", "--out", tmp_path / "cams", "-q")
    assert explained.exit_code == 0, explained.stderr
    exported = run("export", tmp_path / "run", "--out", tmp_path / "model.onnx")
    assert exported.exit_code == 0, exported.stderr
    onnx = run("predict", "series", tmp_path / "model.onnx", test, "--json")
    assert [p["label"] for p in json.loads(onnx.stdout)["predictions"]] == labels
    one_length = _written(tmp_path / "short.tsv", "1\t" + "\t".join(map(str, np.sin(np.arange(40) / 5))) + "\n")
    assert run("predict", "series", tmp_path / "run", one_length, "--json").exit_code == 0  # any length is padded
