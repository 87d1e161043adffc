"""Data-parallel training (--devices N), here as two CPU processes over gloo: each takes its
own share of every epoch's items, the model is as good as one process's, and the run folder is
written once, by rank 0."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLES, assert_group_ends, hear_ctrl_c, run, write_images

from petclf.training import distributed

GUNPOINT = SAMPLES / "GunPoint"
PETCLF = [sys.executable, "-m", "petclf"]
RECIPE = ("--arch", "tf_efficientnet_lite0", "--size", "64", "--epochs", "10", "--folds", "1", "--seed", "0")


def record_shares(folder: Path, **_) -> None:
    """Rank r writes the items of two epochs of a shuffled loader of 10 items, as it sees them
    (into ``folder``: the others' run folder, ``out``, is a scratch one)."""
    import torch
    from fastai.data.load import DataLoader

    from petclf.training.callbacks import _share

    rank = torch.distributed.get_rank()
    loader = DataLoader(list(range(10)), bs=2, shuffle=True, drop_last=True)
    share = _share(loader, rank, distributed.world())
    epochs = [[int(i) for batch in share for i in batch] for _ in range(2)]
    (folder / f"rank{rank}.json").write_text(json.dumps({"epochs": epochs, "batches": len(share)}))


@pytest.mark.slow
def test_each_process_takes_its_own_share_of_every_epoch(tmp_path):
    distributed.run_parallel(record_shares, 2, "cpu", folder=tmp_path, out=None, quiet=True, overwrite=False)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["batches"] for r in ranks] == [2, 2]  # 5 items each, in batches of 2 (the last dropped)
    for epoch in (0, 1):
        seen = [ranks[r]["epochs"][epoch] for r in (0, 1)]
        assert len(seen[0]) == len(seen[1]) == 4 and not set(seen[0]) & set(seen[1])
    assert all(ranks[r]["epochs"][0] != ranks[r]["epochs"][1] for r in (0, 1))  # both reshuffled each epoch


def count_threads(folder: Path, **_) -> None:
    import torch

    (folder / f"rank{torch.distributed.get_rank()}.threads").write_text(str(torch.get_num_threads()))


@pytest.mark.slow
def test_rank_0_gives_its_caller_the_threads_back(tmp_path):
    """Rank 0 runs in the caller's process, which shares the cores out while the group trains; a
    library user's later training must not run on a share of them (it changes its numbers)."""
    import torch

    before = torch.get_num_threads()
    distributed.run_parallel(count_threads, 2, "cpu", folder=tmp_path, out=None, quiet=True, overwrite=False)
    assert (tmp_path / "rank0.threads").read_text() == str(max(1, (os.cpu_count() or 1) // 2))
    assert torch.get_num_threads() == before


def train_and_test(out: Path, *extra: str) -> tuple[dict, float]:
    trained = subprocess.run([*PETCLF, "train", GUNPOINT / "GunPoint_TRAIN.tsv", *RECIPE, *extra, "--out", out,
                              "--json", "-q"], capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    tested = subprocess.run([*PETCLF, "predict", "series", out, GUNPOINT / "GunPoint_TEST.tsv", "--json", "-q"],
                            capture_output=True, text=True)
    return json.loads(trained.stdout), json.loads(tested.stdout)["accuracy"]


@pytest.mark.slow
def test_two_processes_train_as_good_a_model_as_one_and_write_one_run_folder(tmp_path):
    one, one_accuracy = train_and_test(tmp_path / "one", "--bs", "16")
    two, two_accuracy = train_and_test(tmp_path / "two", "--devices", "2", "--bs", "8")  # the same global batch
    assert (one["devices"], two["devices"]) == (1, 2)
    assert min(one_accuracy, two_accuracy) >= 0.8 and abs(one_accuracy - two_accuracy) <= 0.1, (one_accuracy,
                                                                                                 two_accuracy)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    assert two["epochs"] == 11 and len((tmp_path / "two" / "history.csv").read_text().splitlines()) == 12


@pytest.mark.slow
@pytest.mark.parametrize("folds", ["1", "2"])  # one model data-parallel; an ensemble's members side by side
def test_images_train_on_two_processes_with_loader_workers(tmp_path, folds):
    """The followers start DataLoader workers of their own, which a daemon process may not."""
    write_images(tmp_path / "data", [f"{c}/{i}.png" for c in "ab" for i in range(8)], size=32)
    trained = subprocess.run([*PETCLF, "train", tmp_path / "data", "--arch", "resnet18", "--no-pretrained", "--size",
                              "32", "--bs", "4", "--epochs", "1", "--folds", folds, "--lr", "1e-3", "--devices", "2",
                              "--workers", "1", "--out", tmp_path / "run", "--json", "-q"], capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["devices"] == 2 and "Traceback" not in trained.stderr


@pytest.mark.slow
@pytest.mark.parametrize("who", ["every process", "rank 0 alone"])
def test_ctrl_c_keeps_the_last_epoch_says_so_once_and_leaves_no_process(tmp_path, who):
    """Ctrl-C in a terminal reaches every process; ``kill -INT`` rank 0 alone, whose followers
    would otherwise wait for it at their next step."""
    run = tmp_path / "run"
    proc = subprocess.Popen([*PETCLF, "train", GUNPOINT / "GunPoint_TRAIN.tsv", "--arch", "tf_efficientnet_lite0",
                             "--size", "32", "--bs", "8", "--epochs", "8", "--folds", "1", "--devices", "2",
                             "--out", run], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=hear_ctrl_c)
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if line.split()[:2] == ["1", "unfrozen"]:
            os.killpg(proc.pid, signal.SIGINT) if who == "every process" else proc.send_signal(signal.SIGINT)
            break
    lines += proc.stderr.read().splitlines()
    assert proc.wait(timeout=60) == 130, lines
    assert not [line for line in lines if "Traceback" in line], lines
    assert lines[-1].startswith("error: interrupted after ") and lines[-1].endswith(f"petclf train --resume {run}")
    assert sorted(p.name for p in run.iterdir()) == ["args.json", "checkpoint.safetensors", "history.csv",
                                                     "model.safetensors"]
    assert not list(tmp_path.glob(".*"))
    assert_group_ends(proc.pid)  # the followers (and multiprocessing's resource tracker) end with rank 0


class HearsCtrlC:
    """A follower process whose first wait is cut short by Ctrl-C."""

    def __init__(self, process):
        self.process, self.waits = process, 0

    def join(self, timeout=None):
        self.waits += 1
        if self.waits == 1:
            raise KeyboardInterrupt
        self.process.join(timeout)

    def is_alive(self):
        return self.process.is_alive()

    def terminate(self):
        self.process.terminate()


@pytest.mark.slow
def test_ctrl_c_while_rank_0_waits_for_its_followers_stops_them_and_keeps_its_finished_run():
    import multiprocessing

    follower = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(120,), daemon=True)
    follower.start()
    distributed._end([HearsCtrlC(follower)], grace=60)  # returns: the run it waited after is complete
    assert not follower.is_alive()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((distributed.HOST, 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_torchrun_nodes_train_one_model_and_rank_0_alone_writes_and_speaks(tmp_path):
    """Two machines as two torchrun nodes on the loopback address (node ranks 0 and 1, gloo)."""
    port, folder = free_port(), tmp_path / "run"
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1", "--node-rank",
         str(node), "--master-addr", distributed.HOST, "--master-port", str(port), "-m", "petclf", "train",
         GUNPOINT / "GunPoint_TRAIN.tsv", "--arch", "tf_efficientnet_lite0", "--size", "32", "--epochs", "2",
         "--folds", "1", "--out", folder, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for node in (0, 1)]
    (out0, err0), (out1, err1) = (node.communicate(timeout=300) for node in nodes)
    assert [node.returncode for node in nodes] == [0, 0], (err0, err1)
    assert json.loads(out0)["devices"] == 2  # the world size, recorded for --resume too
    assert json.loads((folder / "args.json").read_text())["options"]["devices"] == 2
    assert (out1, "Traceback" in err0 + err1) == ("", False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_under_torchrun_devices_is_refused_and_a_follower_names_itself(monkeypatch, tmp_path):
    for name, value in {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
                        "MASTER_ADDR": distributed.HOST, "MASTER_PORT": "1"}.items():
        monkeypatch.setenv(name, value)
    result = run("train", GUNPOINT / "GunPoint_TRAIN.tsv", "--member", "fine-tune", "--devices", "2",
                 "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: rank 1: --devices 2: torchrun started this process"), result.stderr
