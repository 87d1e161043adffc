import csv
import json

import numpy as np
import pytest
from conftest import DIGITS, make_model, modules_to_predict, run, write_images

from petclf.inference import load_classifier, predict_images
from petclf.series.augment import window_views


def valid_rows(folder):
    return list(csv.DictReader((folder / "valid_predictions.csv").open()))


def test_predictions_agree_with_the_validation_at_the_end_of_training(digits_run):
    folder, _ = digits_run
    rows = valid_rows(folder)
    result = run("predict", "image", folder, *[row["file"] for row in rows], "--json")
    assert result.exit_code == 0, result.stderr
    predicted = json.loads(result.stdout)
    assert [p["label"] for p in predicted] == [row["predicted"] for row in rows]
    assert max(abs(p["probability"] - float(row["confidence"])) for p, row in zip(predicted, rows, strict=True)) < 1e-3


def test_folders_are_searched_and_top_k_is_sorted(digits_run):
    folder, _ = digits_run
    result = run("predict", "image", folder / "model.safetensors", DIGITS / "7", "--top-k", "3", "--json")
    predicted = json.loads(result.stdout)
    assert len(predicted) == len(list((DIGITS / "7").glob("*.png")))
    top = predicted[0]["top"]
    assert len(top) == 3 and top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]


def test_table_output_names_each_file(digits_run):
    folder, _ = digits_run
    result = run("predict", "image", folder, DIGITS / "1" / "0001.png")
    assert result.exit_code == 0 and "0001.png" in result.stdout


def test_an_unreadable_image_is_reported_and_the_others_predicted(digits_run, tmp_path):
    folder, _ = digits_run
    broken = tmp_path / "broken.png"
    broken.write_bytes((DIGITS / "1" / "0001.png").read_bytes()[:40])
    result = run("predict", "image", folder, DIGITS / "1" / "0001.png", broken, "--json")
    assert result.exit_code == 1
    predicted = json.loads(result.stdout)
    assert "label" in predicted[0] and "cannot read the image" in predicted[1]["error"]
    assert result.stderr.strip().startswith(f"error: {broken}: cannot read the image")


def test_predict_imports_neither_fastai_nor_pickle_loading(digits_run):
    folder, _ = digits_run
    modules = modules_to_predict(folder, DIGITS / "2" / "0002.png")
    assert "torch" in modules and "fastai" not in modules


def test_the_channels_last_model_predicts_what_the_default_layout_does(digits_run):
    import torch

    from petclf.inference import load_classifier, predict_images

    folder, _ = digits_run
    classifier = load_classifier(folder / "model.safetensors", "cpu")
    stem = next(p for p in classifier.model.parameters() if p.dim() == 4)
    files = sorted(DIGITS.rglob("*.png"))[:20]
    assert stem.is_contiguous(memory_format=torch.channels_last)
    fast = predict_images(classifier, files, top_k=3)
    classifier.model.to(memory_format=torch.contiguous_format)
    assert stem.is_contiguous()
    plain = predict_images(classifier, files, top_k=3)
    assert [p.top[0][0] for p in fast] == [p.top[0][0] for p in plain]
    assert max(abs(a[1] - b[1]) for p, q in zip(fast, plain, strict=True) for a, b in zip(p.top, q.top, strict=True)) < 1e-4


def test_tta_averages_an_image_and_its_mirror_image(tmp_path):
    from PIL import Image

    model = make_model(tmp_path / "m.safetensors")
    (original,) = write_images(tmp_path, ["a.png"], size=32)
    Image.open(original).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "mirrored.png")
    classifier = load_classifier(model, "cpu")
    plain = predict_images(classifier, [original, tmp_path / "mirrored.png"], top_k=2)
    tta = predict_images(classifier, [original], top_k=2, tta=True)[0]
    expected = {label: (dict(plain[0].top)[label] + dict(plain[1].top)[label]) / 2 for label in ("c0", "c1")}
    assert dict(tta.top) == pytest.approx(expected, abs=1e-5)


def test_series_tta_windows_are_stretched_90_percent_windows():
    ramp = np.linspace(0, 1, 101, dtype=np.float32)[None, None]
    start, middle, end = window_views(ramp)
    np.testing.assert_allclose(start[0, 0], np.linspace(0, 0.9, 101), atol=1e-6)
    np.testing.assert_allclose(middle[0, 0], np.linspace(0.05, 0.95, 101), atol=1e-6)
    np.testing.assert_allclose(end[0, 0], np.linspace(0.1, 1, 101), atol=1e-6)


def test_csv_out_file_and_min_confidence_for_scripts(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    images = write_images(tmp_path / "photos", ["a.png", "b.png", "c.png"])
    as_json = json.loads(run("predict", "image", model, tmp_path / "photos", "--json", "--top-k", "2").stdout)
    result = run("predict", "image", model, tmp_path / "photos", "--csv", "--top-k", "2",
                 "--out", tmp_path / "p.json")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert list(rows[0]) == ["file", "label", "probability", "label_1", "probability_1", "label_2", "probability_2"]
    assert [r["file"] for r in rows] == [str(p) for p in images]
    assert [r["label"] for r in rows] == [p["label"] for p in as_json]
    assert json.loads((tmp_path / "p.json").read_text()) == as_json
    unsure = json.loads(run("predict", "image", model, tmp_path / "photos", "--json", "--min-confidence", "0.999",
                            "--out", tmp_path / "p.csv").stdout)
    assert {p["label"] for p in unsure} == {"unknown"}
    assert [p["top"][0]["label"] for p in unsure] == [p["label"] for p in as_json]  # the guess stays in top
    written = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [r["label_1"] for r in written] == [p["label"] for p in as_json]


def test_series_min_confidence_reports_accuracy_on_the_series_left_known(tmp_path, gunpoint):
    from conftest import write_ucr

    X, _, y, _ = gunpoint
    model = make_model(tmp_path / "m.safetensors", length=150)
    data = write_ucr(tmp_path / "gp.tsv", X[:20], [f"c{int(label) - 1}" for label in y[:20]])
    plain = json.loads(run("predict", "series", model, data, "--json").stdout)
    cut = sorted(p["probability"] for p in plain["predictions"])[10]
    result = run("predict", "series", model, data, "--json", "--min-confidence", cut)
    found = json.loads(result.stdout)
    known = [p for p in found["predictions"] if p["label"] != "unknown"]
    assert found["accuracy"] == plain["accuracy"] and found["known"] == len(known) == 10
    assert found["known_accuracy"] == sum(p["label"] == p["true_label"] for p in known) / 10
    text = run("predict", "series", model, data, "--csv").stdout.splitlines()
    assert text[0] == "row,label,probability,true_label" and len(text) == 21


def test_tables_keep_long_file_names_whole_when_not_on_a_terminal(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    image = write_images(tmp_path / ("x" * 150), ["photo.png"])[0]
    result = run("predict", "image", model, image)
    assert str(image) in result.stdout
