"""--member ridge: a ridge classifier on the frozen pretrained body's features, folded into an
ordinary model file's linear head."""

import json

import numpy as np
import pytest
from conftest import SAMPLES, run

from petclf.model.file import read_model
from petclf.training.ridge import _decisions, _folded, held_out_temperature

GUNPOINT = SAMPLES / "GunPoint"


@pytest.mark.parametrize("n_classes, seen", [(2, [0, 1]), (4, [0, 1, 2, 3]), (4, [0, 2, 3])])
def test_the_folded_linear_layer_gives_the_ridge_decisions_times_the_temperature(n_classes, seen):
    from sklearn.linear_model import RidgeClassifier
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X, y = rng.normal(3, 2, size=(40, 7)), np.resize(seen, 40)
    scaler = StandardScaler().fit(X)
    ridge = RidgeClassifier(alpha=0.5).fit(scaler.transform(X), y)
    weight, bias = _folded(ridge, scaler, 2.5, n_classes)
    scores = X @ weight.T + bias
    expected = 2.5 * _decisions(ridge.decision_function(scaler.transform(X)).reshape(len(X), -1))
    np.testing.assert_allclose(scores[:, seen], expected, rtol=1e-4, atol=1e-4)
    assert (scores.argmax(1) == ridge.predict(scaler.transform(X))).all()
    unseen = sorted(set(range(n_classes)) - set(seen))
    assert (scores[:, unseen] < scores[:, seen].min(1, keepdims=True)).all()  # a class never seen never wins


def test_held_out_decisions_all_on_the_right_side_do_not_make_the_member_certain():
    decisions = _decisions(np.linspace(0.3, 1.2, 54).reshape(-1, 1) * np.resize([-1, 1], 54).reshape(-1, 1))
    columns = (decisions[:, 1] > 0).astype(int)
    temperature = held_out_temperature(decisions, columns)
    assert 1 < temperature < 20  # sharper than the decisions as they are, far from the bound (100)
    wrong_by_a_little = np.exp(-temperature * 0.5) / (1 + np.exp(-temperature * 0.5))
    assert wrong_by_a_little > 0.01  # a new series on the wrong side by half a decision costs under 5 nats


@pytest.mark.parametrize("truth", [0.5, 3.0])
def test_the_member_temperature_is_the_one_that_drew_the_labels(truth):
    rng = np.random.default_rng(0)
    decisions = _decisions(rng.normal(0, 2, (2000, 1)))
    columns = (rng.random(2000) < 1 / (1 + np.exp(-truth * (decisions[:, 1] - decisions[:, 0])))).astype(int)
    assert held_out_temperature(decisions, columns) == pytest.approx(truth, rel=0.15)


@pytest.mark.slow
def test_a_ridge_ensemble_fits_in_seconds_and_is_an_ordinary_model_file(tmp_path):
    result = run("train", GUNPOINT / "GunPoint_TRAIN.tsv", "--arch", "tf_efficientnet_lite0", "--size", "64",
                 "--member", "ridge", "--folds", "2", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["folds"] == 2 and metrics["valid_series"] == 50 and metrics["lr"] is None
    assert metrics["accuracy"] >= 0.8  # GunPoint's out-of-fold accuracy from frozen features (0.9 seen)
    _, meta = read_model(tmp_path / "run")
    assert meta.net.head == "linear" and meta.members == 2
    assert (meta.series.imaging.method, meta.net.levels, meta.net.views) == ("seg,rp,gadf", [1, 2, 3], 3)
    assert not meta.series.windows  # fitted on whole series: predicted without test-time windows
    assert meta.net.rocket["channels"] == 1  # MiniRocket's features beside the body's, by default
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert history[0].startswith("member,epoch,phase") and all(",ridge," in row for row in history[1:])
    predicted = run("predict", "series", tmp_path / "run", GUNPOINT / "GunPoint_TEST.tsv", "--json")
    assert predicted.exit_code == 0, predicted.stderr
    assert run("export", tmp_path / "run", "--out", tmp_path / "m.onnx").exit_code == 0
    onnx = run("predict", "series", tmp_path / "m.onnx", GUNPOINT / "GunPoint_TEST.tsv", "--json")
    without = run("predict", "series", tmp_path / "run", GUNPOINT / "GunPoint_TEST.tsv", "--no-tta", "--json")
    probs = [[p["probability"] for p in json.loads(r.stdout)["predictions"]] for r in (predicted, without)]
    assert probs[0] == probs[1]  # the default for a ridge model is --no-tta
    labels = [[p["label"] for p in json.loads(r.stdout)["predictions"]] for r in (predicted, onnx)]
    assert labels[0] == labels[1]
    _explains_each_view(tmp_path / "run")
    more = run("train", "--resume", tmp_path / "run", "--epochs", "2")
    assert more.exit_code == 2 and "a ridge run is fitted, not trained: it has no epochs to add" in more.stderr


def _explains_each_view(run_folder):
    """Grad-CAM of a model whose body takes the views apart: one map over the three views."""
    from petclf.evaluation.explain import explain
    from petclf.inference import load_classifier
    from petclf.series.readers import read_series

    series = read_series(GUNPOINT / "GunPoint_TEST.tsv")
    found = explain(load_classifier(run_folder, input="series"), series.X[:2])
    assert found.cams.shape == found.images.shape[:3] == (2, 64, 3 * 64)


@pytest.mark.parametrize("given, member, method", [
    ({}, "ridge", "seg,rp,gadf"),                           # the default for series of one channel
    ({"epochs": 3}, "fine-tune", "gadf"),                   # an option only fine-tuning has: fine-tuning
    ({"member": "fine-tune"}, "fine-tune", "gadf"),
    ({"member": "ridge", "method": "gadf"}, "ridge", "gadf"),
])
def test_series_train_ridge_members_unless_asked_to_fine_tune(given, member, method):
    from petclf.series.data import find_series
    from petclf.training.recipe import TrainOptions, with_defaults

    options = with_defaults(TrainOptions(arch="tf_efficientnet_lite0", **given), find_series(GUNPOINT / "GunPoint_TRAIN.tsv"))
    assert (options.member, options.method) == (member, method)


def test_series_of_several_channels_get_one_image_of_them_all(tmp_path, basic_motions):
    from petclf.series.data import find_series
    from petclf.training.recipe import TrainOptions, with_defaults

    np.savez(tmp_path / "m.npz", X=basic_motions[0], y=basic_motions[2])
    options = with_defaults(TrainOptions(arch="tf_efficientnet_lite0"), find_series(tmp_path / "m.npz"))
    assert (options.member, options.method, options.size) == ("ridge", "mat", 224)


@pytest.mark.parametrize("given, rocket", [({}, True), ({"rocket": False}, False), ({"member": "fine-tune"}, False)])
def test_ridge_members_read_minirockets_features_unless_told(given, rocket):
    from petclf.series.data import find_series
    from petclf.training.recipe import TrainOptions, with_defaults

    options = with_defaults(TrainOptions(arch="tf_efficientnet_lite0", **given), find_series(GUNPOINT / "GunPoint_TRAIN.tsv"))
    assert options.rocket is rocket


def test_fine_tuning_refuses_minirockets_features():
    result = run("train", GUNPOINT / "GunPoint_TRAIN.tsv", "--member", "fine-tune", "--rocket")
    assert result.exit_code == 2 and "--rocket adds MiniRocket's features to a ridge member" in result.stderr


def test_a_ridge_member_refuses_the_options_of_fine_tuning():
    result = run("train", GUNPOINT / "GunPoint_TRAIN.tsv", "--member", "ridge", "--epochs", "3", "--lr", "0.01")
    assert result.exit_code == 2
    assert "--epochs, --lr: options of fine-tuning, which a ridge member does not do" in result.stderr


def test_members_that_differ_only_in_their_heads_share_one_pass_of_the_body():
    import torch

    from petclf.model.layers import Ensemble, SharedBodyEnsemble, shared

    torch.manual_seed(0)
    body = torch.nn.Linear(4, 8)
    members = [torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)) for _ in range(3)]
    for member in members:
        member[0].load_state_dict(body.state_dict())
    x = torch.randn(5, 4)
    one_pass = shared(Ensemble(members))
    assert isinstance(one_pass, SharedBodyEnsemble)
    torch.testing.assert_close(one_pass(x), Ensemble(members)(x))
    members[1][0].bias.data += 1  # fine-tuned members: bodies of their own
    assert type(shared(Ensemble(members))) is Ensemble



def counted_body(seed: int):
    """A body that counts the items it computes (``items``)."""
    import torch

    class Body(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(seed)
            self.net, self.items = torch.nn.Linear(6, 3), 0

        def forward(self, x):
            self.items += len(x)
            return self.net(x)

    return Body()


def test_a_member_reads_the_series_an_earlier_one_read_through_the_same_body_without_computing_them():
    import torch

    from petclf.model.layers import RememberedBody

    x, seen = torch.randn(8, 6), {}
    first, second, other = counted_body(0), counted_body(0), counted_body(1)  # the same weights twice, then others
    expected = first.net(x)
    assert torch.equal(RememberedBody(first, seen)(x[:5]), expected[:5])
    assert torch.equal(RememberedBody(second, seen)(x), expected)
    assert (first.items, second.items) == (5, 3)  # the second computed only the three the first had not seen
    assert torch.equal(RememberedBody(other, seen)(x), other.net(x)) and other.items == 8
