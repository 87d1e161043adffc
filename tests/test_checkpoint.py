"""The checkpoint Ctrl-C leaves, read back as it was written (no training: a random model file)."""

from dataclasses import replace

import numpy as np
import torch
from conftest import make_model

from petclf.model.file import read_model
from petclf.training.checkpoint import Best, Checkpoint, read_checkpoint, save_checkpoint
from petclf.training.runfolder import Member


def test_an_ensembles_finished_members_and_the_member_in_progress_read_back(tmp_path):
    state, meta = read_model(make_model(tmp_path / "m.safetensors", length=20))
    first = {name: t + 1 for name, t in state.items() if t.is_floating_point()}
    first.update({name: t for name, t in state.items() if not t.is_floating_point()})
    finished = (Member(first, [3, 7], np.array([[0.9, 0.1], [0.2, 0.8]], np.float32), [0.1, 0.2],
                       [{"epoch": 0, "valid_loss": 0.5}], 0),)
    optimizer = {"state": [{"step": 3, "grad_avg": torch.ones(2)}], "hypers": [{"lr": 0.01, "mom": 0.9}]}
    written = Checkpoint(2, [{"epoch": 0}, {"epoch": 1}], state, optimizer, Best(0.4, 1, {n: t.clone() for n, t in state.items()}), 0.01, "--lr",
                         "random", meta.classes, finished=finished)
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run, written, meta)

    read = read_checkpoint(run)
    assert read.epochs_done == 2 and read.started and read.history == written.history
    assert all(torch.equal(read.model[name], t) for name, t in state.items())
    assert read.optimizer["state"][0]["step"] == 3 and torch.equal(read.optimizer["state"][0]["grad_avg"], torch.ones(2))
    [member] = read.finished
    assert member.valid == [3, 7] and member.losses == [0.1, 0.2] and member.best_epoch == 0
    np.testing.assert_array_equal(member.probs, finished[0].probs)
    assert all(torch.equal(member.state[name], t) for name, t in first.items())
    saved, saved_meta = read_model(run)  # what predict reads: the finished member
    assert saved_meta.members == 1 and all(torch.equal(saved[name], t) for name, t in first.items())


def test_an_ensemble_stopped_between_members_has_no_member_in_progress(tmp_path):
    state, meta = read_model(make_model(tmp_path / "m.safetensors", length=20))
    members = tuple(Member({n: t.clone() for n, t in state.items()}, [k], np.array([[0.5, 0.5]], np.float32), [0.7],
                           [{"epoch": 0}], 0) for k in range(2))
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run, replace(Checkpoint(0, [], {}, {}, None, 0.01, "--lr", "random", meta.classes),
                                 finished=members), meta)
    read = read_checkpoint(run)
    assert not read.started and read.model == {} and [m.valid for m in read.finished] == [[0], [1]]
    assert read_model(run)[1].members == 2
