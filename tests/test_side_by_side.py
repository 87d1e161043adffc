"""An ensemble's members side by side (--devices N with --folds K), one process a device: every
member arrives once and in order, a member's error stops the run with its message, and a
process that dies cannot leave the run waiting."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import SAMPLES, assert_group_ends, hear_ctrl_c

from petclf.errors import PetclfError
from petclf.training import side_by_side

GUNPOINT = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
PETCLF = [sys.executable, "-m", "petclf"]
RECIPE = ("--arch", "tf_efficientnet_lite0", "--size", "64", "--epochs", "1", "--member", "fine-tune", "--seed", "0")


def square(k: int, device: str) -> tuple[int, str, int]:
    return k * k, device, os.getpid()


def refuse_two(k: int, device: str) -> int:
    if k == 2:
        raise PetclfError("no good")
    return k


def die_on_one(k: int, device: str) -> int:
    if k == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return k


def test_every_member_arrives_once_from_its_own_process():
    heard = {}
    side_by_side._run_apart(square, range(5), 2, "cpu", lambda k, result: heard.setdefault(k, result))
    assert sorted(heard) == [0, 1, 2, 3, 4]
    assert [heard[k][0] for k in range(5)] == [0, 1, 4, 9, 16]
    assert {device for _, device, _ in heard.values()} == {"cpu"}
    assert os.getpid() not in {pid for _, _, pid in heard.values()}


def test_a_members_error_stops_the_run_with_its_message():
    with pytest.raises(side_by_side.MemberFailed, match="^member 3: no good$"):
        side_by_side._run_apart(refuse_two, range(4), 2, "cpu", lambda k, result: None)


def test_a_process_that_dies_is_an_error_not_a_wait():
    with pytest.raises(PetclfError, match="ended without its member.*exit code -9"):
        side_by_side._run_apart(die_on_one, range(4), 2, "cpu", lambda k, result: None)


def train(out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PETCLF, "train", GUNPOINT, *RECIPE, *extra, "--out", out, "--json"],
                          capture_output=True, text=True)


def first_epochs(run) -> list[float]:
    rows = [line.split(",") for line in (run / "history.csv").read_text().splitlines()]
    header = rows[0]
    return [float(row[header.index("valid_loss")]) for row in rows[1:] if row[header.index("epoch")] == "0"]


@pytest.mark.slow
def test_members_side_by_side_are_the_members_one_after_another_would_train(tmp_path):
    apart, one = train(tmp_path / "apart", "--folds", "2", "--devices", "2"), train(tmp_path / "one", "--folds", "2")
    assert apart.returncode == 0 and one.returncode == 0, apart.stderr + one.stderr
    assert (json.loads(apart.stdout)["devices"], json.loads(one.stdout)["devices"]) == (2, 1)
    # each member's seed and fold, in order: their first epochs' validation losses agree up to rounding
    assert first_epochs(tmp_path / "apart") == pytest.approx(first_epochs(tmp_path / "one"), rel=0.05)


@pytest.mark.slow
def test_a_diverged_member_stops_the_run_and_leaves_no_folder(tmp_path):
    failed = train(tmp_path / "run", "--folds", "2", "--devices", "2", "--lr", "1e6")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("error: member ")
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_ctrl_c_keeps_the_members_in_order_that_ended_and_resume_trains_the_rest(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([*PETCLF, "train", GUNPOINT, *RECIPE, "--folds", "3", "--devices", "2", "--out", run],
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=hear_ctrl_c)
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if line.startswith("member 1 of 3 done"):
            os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process hears it
            break
    lines += proc.stderr.read().splitlines()
    assert proc.wait(timeout=60) == 130, lines
    assert_group_ends(proc.pid)
    assert lines[-1].startswith("error: interrupted in member ") and "Traceback" not in "".join(lines), lines
    kept = int(lines[-1].split()[4]) - 1  # member 2 may have ended too
    resumed = subprocess.run([*PETCLF, "train", "--resume", run, "--json", "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["devices"] == 2
    members = [line.split(",")[0] for line in (run / "history.csv").read_text().splitlines()[1:]]
    assert sorted(set(members)) == ["1", "2", "3"] and kept in (1, 2)
