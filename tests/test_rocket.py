"""MiniRocket's features in torch (series/rocket.py): aeon's, feature for feature, given the same
fit; a fit drawn from the seed alone; and a model file whose head reads them."""

import json

import numpy as np
import pytest
import torch
from conftest import make_model

from petclf.model.file import read_model
from petclf.series.rocket import KERNELS, MiniRocket, dilations, fit_rocket


def _as_ours(aeon, channels: int) -> MiniRocket:
    """aeon's fitted MiniRocket as ours: the same dilations, channel subsets and biases."""
    per_combination, indices, dilation_list, features_per, biases = aeon.parameters
    ours = MiniRocket(channels, dilation_list.tolist(), features_per.tolist())
    with torch.no_grad():
        ours.masks.zero_()
        starts = np.concatenate([[0], np.cumsum(per_combination)])
        for combination, (start, end) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
            ours.masks.view(-1, channels)[combination, indices[start:end]] = 1
        ours.biases.copy_(torch.from_numpy(biases))
    return ours


@pytest.mark.parametrize("data", ["gunpoint", "basic_motions"])  # one channel; six, in subsets
def test_our_features_are_aeons_given_aeons_fit(data, request):
    from aeon.transformations.collection.convolution_based import MiniRocket as AeonMiniRocket

    X = request.getfixturevalue(data)[0].astype(np.float32)
    X = X[:, None] if X.ndim == 2 else X
    aeon = AeonMiniRocket(random_state=0).fit(X)
    assert dilations(X.shape[-1]) == (aeon.parameters[2].tolist(), aeon.parameters[3].tolist())
    with torch.no_grad():
        ours = _as_ours(aeon, X.shape[1])(torch.from_numpy(X)).numpy()
    theirs = aeon.transform(X)
    assert ours.shape == theirs.shape == (len(X), 9_996)
    # a value exactly at its bias may fall either side in another order of summing (aeon uses fastmath)
    assert (ours == theirs).mean() > 0.9999 and np.abs(ours - theirs).mean() < 1e-5


def test_the_fit_comes_from_the_seed_and_each_kernel_sums_one_to_nine_channels(basic_motions):
    X = basic_motions[0]
    first, again, other = fit_rocket(X, 0), fit_rocket(X, 0), fit_rocket(X, 1)
    assert torch.equal(first.biases, again.biases) and torch.equal(first.masks, again.masks)
    assert not torch.equal(first.biases, other.biases)
    counts = first.masks.sum(-1)
    assert first.masks.shape == (len(first.dilation_list), KERNELS, 6) and counts.min() >= 1 and counts.max() <= 6
    assert len(set(counts.flatten().tolist())) > 1  # subsets of several sizes


def test_a_ridge_on_our_features_classifies_gunpoint_as_minirocket_does(gunpoint):
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = gunpoint
    rocket = fit_rocket(X_train[:, None], 0)
    with torch.no_grad():
        train, test = (rocket(torch.from_numpy(X[:, None]).float()).numpy() for X in (X_train, X_test))
    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 13))).fit(train, y_train)
    assert model.score(test, y_test) >= 0.95  # MiniRocket's published GunPoint accuracy: 1.00


def test_a_model_file_keeps_the_fit_and_predicts_as_trained(tmp_path):
    from petclf.inference import load_classifier

    path = make_model(tmp_path / "m.safetensors", length=60, classes=3, channels=2, method="mat", rocket=True)
    state, meta = read_model(path)
    assert meta.net.rocket == {"channels": 2, "dilations": dilations(60)[0], "features": dilations(60)[1]}
    assert {"2.rocket.masks", "2.rocket.biases"} <= state.keys()
    X = np.random.default_rng(1).normal(size=(4, 2, 60)).astype(np.float32)
    probs = load_classifier(path, "cpu", input="series").probabilities(X)
    assert probs.shape == (4, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)


@pytest.mark.parametrize("shape", [
    {"channels": 2, "dilations": [1, 2], "features": [60]},          # one count for two dilations
    {"channels": 3, "dilations": [1], "features": [119]},            # not the model's channels
    {"channels": 2, "dilations": [1], "features": [0]},
    {"channels": 2, "dilations": [1]},
])
def test_a_model_file_with_a_malformed_rocket_is_refused(tmp_path, shape):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from petclf.errors import DataError

    path = make_model(tmp_path / "m.safetensors", length=60, channels=2, method="mat", rocket=True)
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["petclf"])
    meta["net"]["rocket"] = shape
    save_file(load_file(str(path)), str(path), metadata={"petclf": json.dumps(meta)})
    with pytest.raises(DataError, match="rocket must give"):
        read_model(path)
