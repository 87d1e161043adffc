"""petclf export: an image or series model as one ONNX file, which predict runs on onnxruntime
without importing torch, to the same predictions."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import DIGITS, SAMPLES, make_model, modules_to_predict, run

from petclf.inference import load_classifier


@pytest.mark.slow
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
               for p, q in zip(ours, theirs, strict=True) for a, b in zip(p["top"], q["top"], strict=True)) < 1e-3  # fp32 kernels differ


@pytest.mark.slow
def test_export_writes_beside_the_model_and_replaces_only_when_told(digits_run, tmp_path):
    folder, _ = digits_run
    model = shutil.copy(folder / "model.safetensors", tmp_path / "digits.safetensors")
    assert run("export", model).exit_code == 0
    assert (tmp_path / "digits.onnx").stat().st_size > 1e6
    again = run("export", model)
    assert again.exit_code == 2 and "exists; pass --overwrite" in again.stderr
    assert run("export", model, "--overwrite").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.onnx", "digits.safetensors"]


@pytest.mark.slow
def test_predicting_with_an_onnx_file_imports_neither_torch_nor_fastai(digits_run, tmp_path):
    folder, _ = digits_run
    exported = tmp_path / "digits.onnx"
    assert run("export", folder, "--out", exported).exit_code == 0
    modules = modules_to_predict(exported, DIGITS / "2" / "0002.png")
    assert "onnxruntime" in modules and not modules & {"torch", "torchvision", "timm", "fastai"}


@pytest.mark.parametrize("method, channels, scaling, rocket", [
    ("gadf", 1, "series", False), ("gasf+gadf+mtf", 3, "dataset", False), ("rp", 2, "series", False),
    ("seg", 1, "series", False), ("seg", 2, "dataset", False),
    ("seg,rp,gadf", 1, "series", True), ("mat", 3, "series", True),  # ridge members that read MiniRocket's features
])
@pytest.mark.slow
def test_a_series_model_draws_its_fields_inside_the_onnx_graph(tmp_path, method, channels, scaling, rocket):
    model = make_model(tmp_path / "m.safetensors", length=60, classes=3, channels=channels, method=method,
                       scaling=scaling, rocket=rocket)
    assert run("export", model).exit_code == 0
    in_torch, in_onnx = (load_classifier(path, "cpu", input="series") for path in (model, tmp_path / "m.onnx"))
    for batch in (1, 7):  # the batch size is not fixed by the export's example
        X = np.random.default_rng(batch).normal(size=(batch, channels, 60)).astype(np.float32)
        onnx_probs, torch_probs = in_onnx.probabilities(X), in_torch.probabilities(X)
        np.testing.assert_allclose(onnx_probs, torch_probs, atol=5e-4)  # 1.2e-4 seen once (MTF's quantiles)
        assert (onnx_probs.argmax(1) == torch_probs.argmax(1)).all()


@pytest.mark.slow
def test_predicting_series_with_an_onnx_file_imports_no_torch(tmp_path):
    model = make_model(tmp_path / "gp.safetensors", length=150)
    assert run("export", model).exit_code == 0
    code = ("import sys; from petclf.cli import app\n"
            f"app(['predict', 'series', {str(tmp_path / 'gp.onnx')!r}, {str(SAMPLES / 'GunPoint' / 'GunPoint_TEST.tsv')!r},"
            " '-q', '--json'], standalone_mode=False)\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    predictions, modules = proc.stdout.rsplit("\n", 2)[0], set(proc.stdout.split("\n")[-2].split())
    assert len(json.loads(predictions)["predictions"]) == 150
    assert "onnxruntime" in modules and not modules & {"torch", "fastai"}
