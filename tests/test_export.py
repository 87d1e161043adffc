"""petclf export: an image model as one ONNX file, which predict runs on onnxruntime without
importing torch, to the same predictions."""

import json
import shutil

import pytest

from conftest import DIGITS, modules_to_predict, run

pytestmark = pytest.mark.slow


def test_the_exported_model_predicts_what_the_model_file_does(digits_run, tmp_path):
    folder, _ = digits_run
    exported = tmp_path / "digits.onnx"
    result = run("export", folder, "--out", exported)
    assert result.exit_code == 0 and result.stdout.strip() == str(exported), result.stderr
    images = [DIGITS / "1", DIGITS / "7"]
    ours = json.loads(run("predict", "image", exported, *images, "--top-k", "3", "--json").stdout)
    theirs = json.loads(run("predict", "image", folder, *images, "--top-k", "3", "--json").stdout)
    assert len(ours) == len(theirs) > 10
    assert [p["label"] for p in ours] == [p["label"] for p in theirs]
    assert max(abs(a["probability"] - b["probability"])
               for p, q in zip(ours, theirs) for a, b in zip(p["top"], q["top"])) < 1e-4


def test_export_writes_beside_the_model_and_replaces_only_when_told(digits_run, tmp_path):
    folder, _ = digits_run
    model = shutil.copy(folder / "model.safetensors", tmp_path / "digits.safetensors")
    assert run("export", model).exit_code == 0
    assert (tmp_path / "digits.onnx").stat().st_size > 1e6
    again = run("export", model)
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.stderr
    assert run("export", model, "--overwrite").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.onnx", "digits.safetensors"]


def test_predicting_with_an_onnx_file_imports_neither_torch_nor_fastai(digits_run, tmp_path):
    folder, _ = digits_run
    exported = tmp_path / "digits.onnx"
    assert run("export", folder, "--out", exported).exit_code == 0
    modules = modules_to_predict(exported, DIGITS / "2" / "0002.png")
    assert "onnxruntime" in modules and not modules & {"torch", "torchvision", "timm", "fastai"}
