"""petclf installed the way users install it, from an sdist and a wheel rather than the editable
checkout the other tests import: every subpackage must be in them (a `packages = ["petclf"]`
once left petclf.cli out, and only a real install showed it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_model, write_images

ROOT = Path(__file__).resolve().parent.parent


def pip(*args) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", *map(str, args), "--quiet", "--no-deps",
                           "--no-build-isolation"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]


def build_installed(tmp_path: Path) -> Path:
    """petclf built as an sdist, the sdist built into a wheel and the wheel installed into a
    folder of its own (its dependencies come from this environment)."""
    code = (f"import os; from setuptools import build_meta; os.chdir({str(ROOT)!r}); "
            f"print(build_meta.build_sdist({str(tmp_path / 'dist')!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    sdist = tmp_path / "dist" / proc.stdout.split()[-1]
    pip("wheel", sdist, "--wheel-dir", tmp_path / "wheels")
    wheel = next((tmp_path / "wheels").glob("petclf-*.whl"))
    pip("install", wheel, "--target", tmp_path / "site")
    return tmp_path / "site"


@pytest.mark.slow
def test_a_wheel_built_from_the_sdist_installs_a_petclf_that_runs(tmp_path):
    site = build_installed(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}  # found before the editable checkout

    def petclf(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "petclf", *map(str, args)], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=300)

    where = subprocess.run([sys.executable, "-c", "import petclf.cli; print(petclf.cli.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stderr
    assert (site / "bin" / "petclf").exists()
    assert "train" in petclf("--help").stdout
    model = make_model(tmp_path / "model.safetensors")
    image = write_images(tmp_path, ["photo.png"])[0]
    proc = petclf("predict", "image", model, image, "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["label"] in {"c0", "c1"}
