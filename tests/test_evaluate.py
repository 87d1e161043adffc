"""petclf evaluate: scikit-learn's classification report on real labelled data, and its files."""

import csv
import io
import json

import numpy as np
import pytest
from conftest import SAMPLES, make_model, run, write_images
from sklearn.metrics import classification_report

from petclf.evaluation.report import Evaluation, report, top_losses


def test_the_report_is_scikit_learns_and_top_k_counts_the_runners_up():
    classes = ["a", "b", "c"]
    probs = np.array([[.7, .2, .1], [.2, .5, .3], [.5, .1, .4], [.1, .3, .6], [.2, .5, .3]])
    true = ["a", "c", "c", "c", "a"]
    found = report(Evaluation(classes, [f"{i}.png" for i in range(5)], true, probs), k=2)
    expected = classification_report(true, ["a", "b", "a", "c", "b"], output_dict=True, zero_division=0)
    for row in found["classes"]:
        assert row["precision"] == pytest.approx(expected[row["class"]]["precision"])
        assert row["recall"] == pytest.approx(expected[row["class"]]["recall"])
        assert row["support"] == expected[row["class"]]["support"]
    assert found["macro_avg"]["f1"] == pytest.approx(expected["macro avg"]["f1-score"])
    assert found["weighted_avg"]["f1"] == pytest.approx(expected["weighted avg"]["f1-score"])
    assert found["accuracy"] == pytest.approx(expected["accuracy"]) == 0.4
    assert found["top_k_accuracy"] == 0.8  # all but item 4, whose "a" is third
    assert found["confusion_matrix"]["counts"] == [[1, 1, 0], [0, 0, 0], [1, 1, 1]]


def test_top_losses_are_the_surest_mistakes_first():
    probs = np.array([[.9, .1], [.2, .8], [.45, .55], [.01, .99]])
    evaluation = Evaluation(["a", "b"], ["w", "x", "y", "z"], ["a", "a", "a", "b"], probs)
    assert top_losses(evaluation, 2) == [1, 2]


def test_evaluate_a_model_on_a_labelled_image_folder_writes_the_report(tmp_path):
    model = make_model(tmp_path / "m.safetensors", classes=2)
    write_images(tmp_path / "test", [f"c{c}/{i}.png" for c in (0, 1) for i in range(5)])
    result = run("evaluate", model, tmp_path / "test", "--out", tmp_path / "report", "--json", "--top-k", "2",
                 "--coverage", "0.9")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    folder = tmp_path / "report"
    assert sorted(p.name for p in folder.iterdir()) == ["confusion_matrix.png", "per_class.csv", "predictions.csv",
                                                         "reliability.png", "report.json", "top_losses.png"]
    assert found["items"] == 10 and found["top_k_accuracy"] == 1.0
    assert set(found["calibration"]) == {"temperature", "before", "after"} and found["calibration"]["after"]["ece"] >= 0
    rows = list(csv.DictReader((folder / "predictions.csv").open()))
    assert [r["true_label"] for r in rows] == ["c0"] * 5 + ["c1"] * 5
    sets = found["sets"]
    assert sets["covered"] == np.mean([r["true_label"] in r["set"].split(";") for r in rows])
    assert sets["mean_set_size"] == np.mean([len(r["set"].split(";")) for r in rows])
    assert [c["class"] for c in sets["per_class"]] == ["c0", "c1"] and all(c["support"] == 5 for c in sets["per_class"])
    predicted = json.loads(run("predict", "image", model, tmp_path / "test", "--json").stdout)
    assert [r["label"] for r in rows] == [p["label"] for p in predicted]
    assert found["accuracy"] == np.mean([r["label"] == r["true_label"] for r in rows])
    assert json.loads((folder / "report.json").read_text())["classes"] == found["classes"]


def test_the_per_class_table_prints_as_csv_as_the_report_folder_holds_it(tmp_path):
    model = make_model(tmp_path / "m.safetensors", classes=2)
    write_images(tmp_path / "test", [f"c{c}/{i}.png" for c in (0, 1) for i in range(3)])
    result = run("evaluate", model, tmp_path / "test", "--out", tmp_path / "report", "--csv-report")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (tmp_path / "report" / "per_class.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["class"] for r in rows] == ["c0", "c1", "macro avg", "weighted avg"]
    assert [int(r["support"]) for r in rows] == [3, 3, 6, 6]


def test_evaluate_a_series_model_on_a_labelled_series_file(tmp_path):
    model = make_model(tmp_path / "m.safetensors", length=150)
    data = tmp_path / "gp.tsv"
    data.write_text("".join(f"c{int(line.split()[0]) - 1}\t" + "\t".join(line.split()[1:]) + "\n"
                            for line in (SAMPLES / "GunPoint" / "GunPoint_TEST.tsv").read_text().splitlines()[:12]))
    result = run("evaluate", model, data, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.stderr
    assert "macro avg" in result.stdout and "of 12 series" in result.stdout
    assert (tmp_path / "report" / "top_losses.png").stat().st_size > 10_000


def test_a_folder_laid_out_by_split_is_refused_with_the_split_to_give(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    write_images(tmp_path / "data", ["train/a/1.png", "test/a/2.png"])
    result = run("evaluate", model, tmp_path / "data", "--out", tmp_path / "report")
    assert result.exit_code == 2 and f"give the folder of the split to evaluate on, e.g. {tmp_path / 'data' / 'test'}" \
        in result.stderr
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("items, names", [
    (["d/5/0005.png", "d/0/0005.png"], ["5/0005.png", "0/0005.png"]),  # the class folder tells them apart
    (["d/a/x.png", "d/a/y.png"], ["x.png", "y.png"]),
    (["d/a/x.png"], ["x.png"]),
])
def test_a_top_loss_is_titled_by_its_path_below_the_shared_folder(items, names):
    from petclf.evaluation.report import _short_name

    assert [_short_name(items, i) for i in range(len(items))] == names
