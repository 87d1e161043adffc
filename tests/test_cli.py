import os
import subprocess
import sys
from pathlib import Path

import typer
from conftest import SAMPLES, run

from petclf import __version__
from petclf.cli import app

TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"


def imported_modules(*args: str) -> set[str]:
    """Top-level packages a real ``python -m petclf ARGS`` process imports (-X importtime)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "petclf", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    return {name.split(".")[0] for name in lines}


def test_help_imports_neither_torch_nor_fastai():
    modules = imported_modules("--help")
    assert not modules & {"torch", "fastai", "timm", "torchvision", "matplotlib", "numpy"}


def test_tsimage_does_not_import_fastai(tmp_path):
    modules = imported_modules("tsimage", str(TRAIN), str(tmp_path / "out"), "--size", "16", "-q")
    assert "torch" in modules  # the GAF runs on torch...
    assert not modules & {"fastai", "timm", "torchvision"}  # ...but nothing that trains


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"petclf {__version__}"


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "petclf", "--version"], capture_output=True, text=True)
    assert proc.stdout.strip() == f"petclf {__version__}"


def test_no_arguments_shows_help():
    result = run()
    assert result.exit_code == 0 and "tsimage" in result.stdout


def leaf_commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_has_help_with_examples():
    commands = dict(leaf_commands(typer.main.get_command(app)))
    assert set(commands) == {("tsimage",), ("train",), ("lr-find",), ("predict", "image"), ("predict", "series"),
                             ("evaluate",), ("explain",), ("export",), ("check",), ("tune",)}
    for path, command in commands.items():
        result = run(*path, "--help")
        assert result.exit_code == 0 and command.help and "Examples" in result.stdout, path


def test_debug_shows_the_traceback():
    result = run("--debug", "tsimage", "missing.tsv", "out")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and result.stderr.strip().endswith("missing.tsv: no such file")


def test_help_follows_the_usual_conventions_for_arguments_and_flags():
    """petclf replaces two of Typer's help methods (cli/_app.py): this fails when Typer changes them."""
    for path, _ in leaf_commands(typer.main.get_command(app)):
        text = run(*path, "--help").stdout
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "[[" not in usage and "{" not in usage, usage
        assert "<bool>" not in text and "<list[" not in text, path
    assert "predict image [OPTIONS] MODEL FILES_OR_DIRS..." in run("predict", "image", "--help").stdout
    assert "train [OPTIONS] [DATA]" in run("train", "--help").stdout


def test_the_shell_completes_commands_and_options():
    env = {**os.environ, "_PETCLF_COMPLETE": "complete_bash", "COMP_WORDS": "petclf train --arc", "COMP_CWORD": "2"}
    done = subprocess.run([Path(sys.executable).parent / "petclf"], env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["--arch"], done.stderr
    assert "--install-completion" in run("--help").stdout
