"""A new user's first hour with a small photo set named the Pets way: the defects issue 21 found,
each pinned here so that it stays fixed."""

import json
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
from conftest import SAMPLES, run, write_images

from petclf.images.data import LabelSource, find_images
from petclf.inputs import SERIES_IMAGES
from petclf.series.data import LabelledSeries
from petclf.training.recipe import MIN_STEPS, TrainOptions, fit_batch, with_defaults

QUICK = ("--arch", "resnet18", "--no-pretrained", "--size", "32")


@pytest.fixture
def pets(tmp_path):
    """48 photos (72 px: photographs, not thumbnails) named Cat_N.jpg and dog_N.jpg."""
    folder = tmp_path / "pets"
    write_images(folder, [f"{name}_{i}.jpg" for name in ("Cat", "dog") for i in range(24)], size=72)
    return folder


def labelled(n_train: int) -> LabelledSeries:
    labels = ["a", "b"] * ((n_train + 2) // 2 + 1)
    return LabelledSeries(np.zeros((len(labels), 1, 8), np.float32), labels, [0, 1], [""] * len(labels))


@pytest.mark.parametrize("bs, n_train, processes, fits", [
    (64, 38, 1, 19),  # the default photo batch on a small set: two batches an epoch
    (8, 40, 1, 8),  # a batch that fits is left alone
    (8, 16, 1, 8),
    (8, 15, 1, 7),
    (64, 3, 1, 2),  # never one item: the head's BatchNorm needs two
    (16, 40, 2, 10),  # each process takes half the items
])
def test_a_batch_shrinks_to_give_every_epoch_two_steps(bs, n_train, processes, fits):
    split = labelled(n_train)
    split = LabelledSeries(split.X, split.labels, list(range(len(split.labels) - n_train)), split.names)
    assert len(split.train) == n_train
    options, note = fit_batch(TrainOptions(bs=bs), [split], processes)
    assert options.bs == fits
    assert (note is None) == (fits == bs)
    if note:
        assert note.startswith(f"batch size {bs} does not fit") and f"using --bs {fits}" in note
    assert MIN_STEPS == 2


@pytest.mark.slow
def test_a_small_photo_set_trains_with_the_default_batch_size(pets, tmp_path):
    result = run("train", pets, "--pets", *QUICK, "--epochs", "1", "--folds", "1", "--lr", "1e-3",
                 "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    assert "batch size 64 does not fit 38 training images" in result.stderr
    assert "using --bs 19" in result.stderr
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]
    assert len(history) == 2 and not any("nan" in row for row in history)
    assert json.loads((tmp_path / "run" / "args.json").read_text())["options"]["bs"] == 19


@pytest.mark.slow
def test_lr_find_on_a_small_photo_set_suggests_a_rate(pets, tmp_path):
    result = run("lr-find", pets, "--pets", *QUICK, "--iters", "30", "--plot", tmp_path / "lr.png", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["valley"] > 0


@pytest.mark.slow
def test_a_diverged_loss_stops_the_run_and_writes_nothing(pets, tmp_path):
    result = run("train", pets, "--pets", *QUICK, "--epochs", "1", "--folds", "1", "--lr", "1e30",
                 "--out", tmp_path / "run")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: training diverged: the ")
    assert "loss became nan" in result.stderr or "loss became inf" in result.stderr
    assert "--lr 1.00e+30" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pets"]  # no run folder, no temporary one


def test_the_label_re_example_in_help_works_when_pasted_into_a_shell(pets):
    help_text = " ".join(run("train", "--help").stdout.replace("\u2502", " ").split())  # out of its box, unwrapped
    pasted = re.search(r"--label-re .*?e\.g\. ('[^']+')", help_text).group(1)
    pattern, = shlex.split(pasted)
    images = find_images(pets, LabelSource(label_re=pattern))
    assert set(images.labels) == {"Cat", "dog"}


def test_the_label_file_option_keeps_its_old_name_with_a_note(pets, tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("file,label\n" + "".join(f"{p.name},{p.name[0]}\n" for p in sorted(pets.iterdir())))
    result = run("lr-find", pets, "--csv", table, *QUICK, "--iters", "30", "--plot", tmp_path / "lr.png", "--json")
    assert result.exit_code == 0, result.stderr
    assert "--csv FILE is now --labels-csv FILE" in result.stderr


def test_a_failed_weights_download_keeps_stdout_for_json(pets, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "petclf", "train", pets, "--pets", "--arch", "resnet18", "--size", "32",
                           "--out", tmp_path / "run", "--json"], capture_output=True, text=True,
                          env={"TORCH_HOME": str(tmp_path / "empty-cache"), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert proc.stderr.strip().splitlines()[-1].startswith("error: no pretrained weights for resnet18")


@pytest.mark.parametrize("split", [None, "train"])
def test_a_folder_tsimage_wrote_trains_with_the_series_defaults(tmp_path, split):
    gunpoint = SAMPLES / "GunPoint" / "GunPoint_TRAIN.tsv"
    drawn = run("tsimage", gunpoint, tmp_path / "gp", "--size", "32", *(["--split", split] if split else []), "-q")
    assert drawn.exit_code == 0, drawn.stderr
    images = find_images(tmp_path / "gp")
    assert images.series_images
    options = with_defaults(TrainOptions(), images)
    assert (options.augment, options.epochs, options.bs, options.lr, options.lr_mult) == (
        False, SERIES_IMAGES.epochs, SERIES_IMAGES.bs, SERIES_IMAGES.lr, SERIES_IMAGES.lr_mult)
    assert not find_images(SAMPLES / "digits").series_images  # a folder of its own photos stays as it was


EPOCHS_SEEN = []


def count_epochs():
    """A fastai callback for --callback: it notes each epoch it sees."""
    from fastai.callback.core import Callback

    class CountEpochs(Callback):
        def after_epoch(self):
            EPOCHS_SEEN.append(self.epoch)

    return CountEpochs()


@pytest.mark.slow
def test_tensorboard_logs_every_epoch_of_both_phases_and_user_callbacks_run(pets, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    EPOCHS_SEEN.clear()
    result = run("train", pets, "--pets", *QUICK, "--epochs", "2", "--folds", "1", "--lr", "1e-3",
                 "--tensorboard", tmp_path / "tb", "--callback", "test_first_hour:count_epochs",
                 "--out", tmp_path / "run")
    assert result.exit_code == 0, result.stderr
    events = EventAccumulator(str(tmp_path / "tb" / "run")).Reload()
    assert [e.step for e in events.Scalars("valid_loss")] == [0, 1, 2]  # the frozen epoch, then two more
    assert {"train_loss", "accuracy", "error_rate", "lr"} <= set(events.Tags()["scalars"])
    assert set(events.Tags()["images"]) == {"confusion_matrix", "batch"}
    assert EPOCHS_SEEN == [0, 0, 1]  # fastai counts epochs per fit: one frozen, two unfrozen


@pytest.mark.parametrize("path, message", [
    ("fastai.callback.wandb", "give it as module:name"),
    ("no_such_module:X", "cannot import no_such_module"),
    ("fastai.callback.core:Nothing", "fastai.callback.core has no Nothing"),
    ("collections:OrderedDict", "OrderedDict() is not a fastai Callback"),
])
def test_a_callback_that_cannot_be_used_is_refused_in_one_line(path, message):
    from petclf.errors import UsageError
    from petclf.training.logs import user_callback

    with pytest.raises(UsageError, match=re.escape(message)):
        user_callback(path)


@pytest.mark.parametrize("labels, ordered", [
    (["1", "10", "11", "2"], ["1", "2", "10", "11"]),
    (["cat", "dog", "Bird"], ["Bird", "cat", "dog"]),
    (["img10", "img9", "img10a"], ["img9", "img10", "img10a"]),
])
def test_labels_sort_as_a_person_reads_them(labels, ordered):
    from petclf.splits import natural_order

    assert natural_order(labels) == ordered


def test_hidden_folders_are_never_classes_or_items(tmp_path):
    write_images(tmp_path / "data", ["cat/1.png", "cat/2.png", "dog/1.png", "dog/2.png",
                                     "cat/.ipynb_checkpoints/1-checkpoint.png", "__MACOSX/cat/._1.png",
                                     ".trash/dog/3.png"])
    images = find_images(tmp_path / "data", valid_pct=0.5)
    assert images.classes == ["cat", "dog"] and len(images.files) == 4


@pytest.mark.parametrize("value, traceback", [("0", False), ("false", False), ("", False), ("1", True), ("yes", True)])
def test_petclf_debug_is_read_as_a_switch(value, traceback):
    import os

    proc = subprocess.run([sys.executable, "-m", "petclf", "tsimage", "missing.tsv", "out"], capture_output=True,
                          text=True, env={**os.environ, "PETCLF_DEBUG": value})
    assert proc.returncode == 2 and ("Traceback" in proc.stderr) == traceback


def test_the_lr_find_legend_gives_each_suggestion_as_the_table_does(tmp_path, monkeypatch):
    """fastai's minimum suggests a tenth of the rate at the lowest loss; the legend said the rate."""
    from petclf import plots

    drawn = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.setdefault("fig", fig))
    lrs = list(np.logspace(-7, 0, 50))
    suggestions = {"valley": 1e-3, "slide": 2e-3, "minimum": 5.25e-2, "steep": 1e-5}
    points = {"valley": (1e-3, 1.0), "slide": (2e-3, 0.9), "minimum": (5.25e-1, 0.5), "steep": (1e-5, 1.2)}
    plots.save_lr_plot(lrs, [1.0] * 50, suggestions, points, (1e-3, "finder (valley)"), tmp_path / "lr.png")
    legend = [text.get_text() for text in drawn["fig"].axes[0].get_legend().get_texts()]
    assert "minimum: 5.25e-02, marked at 5.25e-01" in legend and "valley: 1.00e-03" in legend
