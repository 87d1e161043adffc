"""Nothing is lost: Ctrl-C keeps the last completed epoch and --resume finishes the run;
concurrent processes do not trip over each other; outputs get ordinary permissions; long
series are turned into images in bounded memory. Real processes and real signals."""

import csv
import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES, hear_ctrl_c, make_model

GUNPOINT_TRAIN = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
GUNPOINT_TEST = SAMPLES / "GunPoint" / "GunPoint_TEST.tsv"
PETCLF = [sys.executable, "-m", "petclf"]
QUICK = ("--arch", "tf_efficientnet_lite0", "--size", "32", "--bs", "16", "--folds", "1")


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([*PETCLF, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=hear_ctrl_c)


def interrupt_after(proc: subprocess.Popen, is_the_line) -> list[str]:
    """Send SIGINT once a stderr line passes ``is_the_line``; all stderr lines, when it exits."""
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if is_the_line(line):
            proc.send_signal(signal.SIGINT)
            break
    lines += proc.stderr.read().splitlines()
    proc.wait(timeout=120)
    return [line for line in lines if line.strip()]


def history(run: Path) -> list[dict]:
    with (run / "history.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_ctrl_c_keeps_the_last_epoch_and_resume_finishes_the_run(tmp_path):
    run = tmp_path / "run"
    proc = start("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "6", "--out", run)
    lines = interrupt_after(proc, lambda line: line.split()[:2] == ["1", "unfrozen"])  # half-way through a phase
    assert proc.returncode == 130, lines
    done = len(history(run))
    assert 2 <= done < 7
    assert lines[-1] == (f"error: interrupted after {done} of 7 epochs: {run} holds the last completed epoch's "
                         f"model; continue with: petclf train --resume {run}")
    assert sorted(p.name for p in run.iterdir()) == ["args.json", "checkpoint.safetensors", "history.csv",
                                                     "model.safetensors"]
    assert not list(tmp_path.glob(".*"))  # no temporary folder left beside it

    usable = subprocess.run([*PETCLF, "predict", "series", run, GUNPOINT_TEST, "--json"], capture_output=True, text=True)
    assert usable.returncode == 0, usable.stderr
    assert len(json.loads(usable.stdout)["predictions"]) == 150

    more = subprocess.run([*PETCLF, "train", "--resume", run, "--epochs", "2"], capture_output=True, text=True)
    assert more.returncode == 2 and more.stderr.strip() == (f"error: {run}: the run was interrupted; finish it first "
                                                            f"with: petclf train --resume {run}")

    resumed = subprocess.run([*PETCLF, "train", "--resume", run, "--json"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads(resumed.stdout)
    assert metrics["epochs"] == 7 and metrics["folder"] == str(run)
    rows = history(run)
    assert [int(r["epoch"]) for r in rows] == list(range(7))
    # train_loss is fastai's moving average over a phase (beta 0.98): two batches cannot halve it, unless
    # it started again from nothing at the resume (the first resumed epoch then read ~0.03 where the run was at 0.8)
    before, after = float(rows[done - 1]["train_loss"]), float(rows[done]["train_loss"])
    assert after > 0.5 * before, (before, after)
    assert [r["phase"] for r in rows] == ["frozen"] + ["unfrozen"] * 6
    assert not (run / "checkpoint.safetensors").exists() and (run / "metrics.json").is_file()


@pytest.mark.slow
def test_sigterm_stops_a_run_as_ctrl_c_does(tmp_path):
    run = tmp_path / "run"
    proc = start("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "6", "--out", run)
    for line in proc.stderr:
        if line.split()[:2] == ["0", "frozen"]:
            proc.terminate()
            break
    lines = proc.stderr.read().splitlines()
    assert proc.wait(timeout=120) == 130, lines
    assert lines[-1].startswith("error: interrupted after ") and "petclf train --resume" in lines[-1]
    assert (run / "checkpoint.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no hidden temporary folder beside it


@pytest.mark.slow
def test_ctrl_c_before_the_first_epoch_ends_writes_nothing(tmp_path):
    proc = start("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "6", "--out", tmp_path / "run")
    lines = interrupt_after(proc, lambda line: "training and 10 validation series" in line)
    assert proc.returncode == 130 and lines[-1].startswith("error: interrupted"), lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_in_an_ensemble_keeps_the_finished_members_and_resume_goes_on_from_the_next(tmp_path):
    run = tmp_path / "run"
    proc = start("train", GUNPOINT_TRAIN, *QUICK[:-1], "3", "--epochs", "2", "--out", run)
    lines = interrupt_after(proc, lambda line: line.startswith("member 2 of 3"))
    assert proc.returncode == 130, lines
    assert lines[-1] == (f"error: interrupted in member 2 of 3 before its first epoch ended: {run} keeps member 1, "
                         f"which predict can use; continue with: petclf train --resume {run}")
    assert [r["member"] for r in history(run)] == ["1"] * 3
    usable = subprocess.run([*PETCLF, "predict", "series", run, GUNPOINT_TEST, "--json"], capture_output=True, text=True)
    assert usable.returncode == 0, usable.stderr

    resumed = subprocess.run([*PETCLF, "train", "--resume", run], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "member 1 of 3" not in resumed.stderr and "member 2 of 3" in resumed.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["folds"] == 3 and metrics["valid_series"] == 50  # out-of-fold over every series again
    assert [(r["member"], r["epoch"]) for r in history(run)] == [(m, e) for m in "123" for e in "012"]
    assert not (run / "checkpoint.safetensors").exists()


@pytest.mark.slow
def test_a_finished_run_goes_on_for_the_epochs_asked(tmp_path):
    run = tmp_path / "run"
    subprocess.run([*PETCLF, "train", GUNPOINT_TRAIN, *QUICK, "--epochs", "1", "--out", run, "-q"], check=True)
    proc = subprocess.run([*PETCLF, "train", "--resume", run], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == (f"error: {run}: nothing to resume (the run finished; "
                                                            "add epochs with --epochs N)")
    before = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").unlink()  # a report, not state: the run goes on from args.json

    more = subprocess.run([*PETCLF, "train", "--resume", run, "--epochs", "2", "--json"], capture_output=True, text=True)
    assert more.returncode == 0, more.stderr
    metrics = json.loads(more.stdout)
    assert metrics["epochs"] == 4 and metrics["lr"] == before["lr"] and metrics["weights"] == before["weights"]
    assert [(int(r["epoch"]), r["phase"]) for r in history(run)] == [(0, "frozen"), (1, "unfrozen"),
                                                                     (2, "unfrozen"), (3, "unfrozen")]
    rows = history(run)
    assert metrics["valid_loss"] == pytest.approx(min(float(r["valid_loss"]) for r in rows), rel=1e-3)
    assert json.loads((run / "args.json").read_text())["options"]["added_epochs"] == [2]


@pytest.mark.slow
def test_each_member_of_an_ensemble_goes_on(tmp_path):
    run = tmp_path / "run"
    subprocess.run([*PETCLF, "train", GUNPOINT_TRAIN, *QUICK[:-1], "2", "--epochs", "1", "--early-stop", "1",
                    "--out", run, "-q"], check=True)
    more = subprocess.run([*PETCLF, "train", "--resume", run, "--epochs", "1", "--json"], capture_output=True, text=True)
    assert more.returncode == 0, more.stderr
    metrics = json.loads(more.stdout)
    assert metrics["folds"] == 2 and metrics["epochs"] == 3
    assert [(r["member"], r["epoch"]) for r in history(run)] == [(m, e) for m in "12" for e in "012"]


@pytest.mark.slow
def test_two_predictions_on_one_model_and_two_trainings_at_once(tmp_path):
    model = make_model(tmp_path / "model.safetensors", length=150)
    predictions = [start("predict", "series", model, GUNPOINT_TEST, "--json") for _ in range(2)]
    trainings = [start("train", GUNPOINT_TRAIN, *QUICK, "--epochs", "1", "--seed", seed, "--out", tmp_path / f"run{seed}",
                       "--json") for seed in (1, 2)]
    outputs = [proc.communicate(timeout=300) for proc in predictions + trainings]
    assert [proc.returncode for proc in predictions + trainings] == [0] * 4, [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0]  # the same model gives the same predictions
    for seed in (1, 2):
        assert json.loads(outputs[1 + seed][0])["folder"] == str(tmp_path / f"run{seed}")
        assert (tmp_path / f"run{seed}" / "metrics.json").is_file()


@pytest.mark.slow
def test_outputs_get_the_permissions_of_ordinary_files(tmp_path):
    """Temporary files are private (0600); renamed into place they are as open() makes them."""
    subprocess.run(f"umask 022 && {sys.executable} -m petclf tsimage {GUNPOINT_TRAIN} {tmp_path / 'images'} -q",
                   shell=True, check=True)
    assert stat.S_IMODE((tmp_path / "images").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "images" / "manifest.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "images" / "preview.png").stat().st_mode) == 0o644


PEAK_MEMORY = """
import resource, sys
from petclf.cli import main
sys.argv = ["petclf", *sys.argv[1:]]
try:
    main()
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)
"""


def peak_memory(*args) -> int:
    proc = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *map(str, args)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.split()[-1])


@pytest.mark.slow
def test_long_series_become_images_in_bounded_memory(tmp_path):
    """8 series of 4 million values (256 MB as float64): the GAF's float64 resampling of them
    all at once would take 24 bytes a value (768 MB) on top of reading the file."""
    np.save(tmp_path / "long.npy", np.random.default_rng(0).normal(size=(8, 4_000_000)))
    np.save(tmp_path / "short.npy", np.random.default_rng(0).normal(size=(8, 100)))
    size = (tmp_path / "long.npy").stat().st_size
    extra = (peak_memory("tsimage", tmp_path / "long.npy", tmp_path / "a", "--size", "64", "-q")
             - peak_memory("tsimage", tmp_path / "short.npy", tmp_path / "b", "--size", "64", "-q"))
    assert extra < 2 * size, f"{extra / 2**20:.0f} MB beyond a small file's run, for a {size / 2**20:.0f} MB file"
    assert len(list((tmp_path / "a").glob("0*.png"))) == 8
