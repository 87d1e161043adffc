import csv
import json
import subprocess
import sys

import pytest

from conftest import DIGITS, run


def valid_rows(folder):
    return list(csv.DictReader((folder / "valid_predictions.csv").open()))


def test_predictions_agree_with_the_validation_at_the_end_of_training(digits_run):
    folder, _ = digits_run
    rows = valid_rows(folder)
    result = run("predict", "image", folder, *[row["file"] for row in rows], "--json")
    assert result.exit_code == 0, result.stderr
    predicted = json.loads(result.stdout)
    assert [p["label"] for p in predicted] == [row["predicted"] for row in rows]
    assert max(abs(p["probability"] - float(row["confidence"])) for p, row in zip(predicted, rows)) < 1e-3


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
    code = ("import sys, pickle; from petclf.cli import app\n"
            "pickle.load = pickle.loads = lambda *a, **k: sys.exit('pickle used')\n"
            f"app(['predict', 'image', {str(folder)!r}, {str(DIGITS / '2' / '0002.png')!r}, '-q'],"
            " standalone_mode=False)\n"
            "assert not any(m.startswith('fastai') for m in sys.modules), 'fastai imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("suffix", [".safetensors", ".pkl", ".pth"])
def test_a_model_file_carrying_a_pickle_payload_is_refused_without_running_it(tmp_path, suffix):
    marker = tmp_path / "pwned"
    payload = tmp_path / f"model{suffix}"
    exploit = f"import pickle, os\nclass P:\n  def __reduce__(self): return (os.system, ('touch {marker}',))\n" \
              f"open({str(payload)!r}, 'wb').write(pickle.dumps(P()))"
    subprocess.run([sys.executable, "-c", exploit], check=True)
    result = run("predict", "image", payload, DIGITS / "1" / "0001.png")
    assert result.exit_code == 1
    assert "not a petclf model" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


def test_missing_model_and_missing_image_are_usage_errors(digits_run, tmp_path):
    folder, _ = digits_run
    assert run("predict", "image", tmp_path / "nope", DIGITS).stderr.strip().endswith("no such model file")
    result = run("predict", "image", folder, tmp_path / "nope.png")
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {tmp_path / 'nope.png'}: no such file or folder"
