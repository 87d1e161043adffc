"""Fine-tuning's knobs (training/regularization.py, train --wd/--dropout/--label-smoothing/--mixup/
--cutmix/--opt) and --config FILE (cli/config.py): each reaches fastai, is kept in args.json, and a
bad value is one line."""

import json
import re

import pytest
import torch
from conftest import run, write_images

from petclf.errors import UsageError
from petclf.training import regularization


def test_dropout_sets_the_head_s_layers_as_fastai_spreads_it():
    from fastai.vision.learner import create_head

    head = create_head(64, 3)
    regularization.set_dropout(head, 0.2)
    assert [m.p for m in head.modules() if isinstance(m, torch.nn.Dropout)] == [0.1, 0.2]


@pytest.mark.parametrize("name, opt", [(None, "Adam"), ("sgd", "SGD"), ("lamb", "Lamb"), ("ranger", "ranger")])
def test_each_optimizer_is_fastai_s(name, opt):
    made = regularization.optimizer(name)
    assert getattr(made, "func", made).__name__ == opt


def test_label_smoothing_raises_the_loss_of_a_confident_right_answer():
    logits, target = torch.tensor([[8.0, 0.0, 0.0]]), torch.tensor([0])
    plain, smoothed = regularization.loss(None, None), regularization.loss(None, 0.2)
    assert float(smoothed(logits, target)) > float(plain(logits, target))


@pytest.mark.parametrize("mixup, cutmix, kind, err_msg", [
    (0.4, 1.0, "images", "--mixup and --cutmix each mix the training batches; give one of them"),
    (None, 1.0, "series", "--cutmix pastes a patch of one image into another; a series model mixes with --mixup"),
])
def test_mixing_is_refused_where_it_cannot_work(mixup, cutmix, kind, err_msg):
    with pytest.raises(UsageError, match=re.escape(err_msg)):
        regularization.check_mixing(mixup, cutmix, kind)


@pytest.mark.parametrize("text, suffix, err_msg", [
    ("lr: 0.01\nlearning_rate: 3\n", ".yaml", "unknown option(s) learning_rate"),
    ("[1, 2]", ".json", "not a JSON or YAML file of options (expected name: value pairs)"),
    ("{not json", ".json", "not a JSON or YAML file of options"),
])
def test_a_config_file_that_is_not_options_is_refused(tmp_path, text, suffix, err_msg):
    (tmp_path / f"c{suffix}").write_text(text)
    result = run("train", tmp_path, "--config", tmp_path / f"c{suffix}")
    assert result.exit_code == 2 and err_msg in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_knobs_and_a_config_file_reach_the_run_and_its_args(tmp_path):
    write_images(tmp_path / "data", [f"{c}/{i}.png" for c in "ab" for i in range(8)], size=32)
    (tmp_path / "best.yaml").write_text("epochs: 3\nlabel-smoothing: 0.1\nmixup: 0.4\nopt: sgd\nwd: 0.05\n")
    result = run("train", tmp_path / "data", "--arch", "resnet18", "--no-pretrained", "--size", "32", "--bs", "4",
                 "--folds", "1", "--lr", "1e-3", "--config", tmp_path / "best.yaml", "--epochs", "1",
                 "--dropout", "0.2", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    options = json.loads((tmp_path / "run" / "args.json").read_text())["options"]
    assert {k: options[k] for k in ("epochs", "label_smoothing", "mixup", "opt", "wd", "dropout")} == {
        "epochs": 1, "label_smoothing": 0.1, "mixup": 0.4, "opt": "sgd", "wd": 0.05, "dropout": 0.2}  # the flag won
