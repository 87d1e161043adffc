"""Calibration and conformal prediction sets (petclf/calibration.py), on synthetic scores where the
answer is known, and on a trained model's real outputs."""

import json

import numpy as np
import pytest
from conftest import SAMPLES, make_model, run, write_images

from petclf import calibration
from petclf.errors import UsageError


def _drawn(n: int, k: int, rng, temperature: float = 1.0, weights=None):
    """Logits, and labels drawn from softmax(logits / temperature): a model whose probabilities
    are right once divided by ``temperature``."""
    logits = rng.normal(0, 3, (n, k))
    probs = calibration.softmax(logits / temperature)
    labels = (probs.cumsum(1) < rng.random((n, 1))).sum(1)  # one draw from each row's distribution
    if weights is not None:  # keep items of each class with these chances: imbalanced classes
        kept = rng.random(n) < np.asarray(weights)[labels]
        logits, labels = logits[kept], labels[kept]
    return logits, labels


def test_the_fitted_temperature_is_the_one_the_labels_were_drawn_with():
    logits, labels = _drawn(4000, 4, np.random.default_rng(0), temperature=2.5)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.1)


def test_held_out_items_all_right_leave_the_temperature_off_its_bound():
    probs = np.array([[0.99, 0.01], [0.02, 0.98]] * 20)
    assert 0.5 < calibration.fit_temperature(np.log(probs), np.array([0, 1] * 20)) <= 1  # not its bound, 0.01


def test_calibration_brings_an_over_confident_models_ece_down():
    logits, labels = _drawn(20000, 5, np.random.default_rng(1), temperature=3)
    over = calibration.softmax(logits)  # as if T were 1
    fitted = calibration.calibrate(over[:10000], labels[:10000])
    before = calibration.quality(over[10000:], labels[10000:])
    after = calibration.quality(calibration.scaled(over[10000:], fitted.temperature), labels[10000:])
    assert fitted.temperature > 2 and before["ece"] > 0.1 and after["ece"] < 0.03
    assert after["nll"] < before["nll"] and after["brier"] < before["brier"]


@pytest.mark.parametrize("confidence, right, expected", [(0.9, 0.5, 0.4), (0.6, 0.6, 0.0)])
def test_ece_is_the_gap_between_confidence_and_accuracy(confidence, right, expected):
    n = 100
    probs = np.tile([confidence, 1 - confidence], (n, 1))
    labels = (np.arange(n) >= right * n).astype(int)  # the first right * n items are class 0, as predicted
    assert calibration.ece(probs, labels) == pytest.approx(expected)


def test_the_threshold_is_the_conformal_quantile_of_the_scores():
    found = calibration.Calibration(1.0, [s / 10 for s in range(10, 0, -1)], [0] * 10)
    assert calibration.thresholds(found, 0.8, 2)[0] == pytest.approx(0.9)  # ceil(11 x 0.8) = 9th smallest


@pytest.mark.parametrize("class_conditional", [False, True])
def test_sets_cover_the_true_class_as_often_as_asked_over_many_draws(class_conditional):
    rng = np.random.default_rng(2)
    weights = [1.0, 1.0, 0.3, 0.3]  # two rare classes
    covered = {k: [] for k in range(4)}
    sizes = []
    for _ in range(40):
        logits, labels = _drawn(1400, 4, rng, weights=weights)
        probs = calibration.softmax(logits)
        fitted = calibration.calibrate(probs[:400], labels[:400])
        limits = calibration.thresholds(fitted, 0.9, 4, class_conditional)
        sets = calibration.prediction_sets(calibration.scaled(probs[400:], fitted.temperature), limits)
        for chosen, label in zip(sets, labels[400:], strict=True):
            covered[label].append(label in chosen)
        sizes.append(np.mean([len(s) for s in sets]))
    overall = np.mean([c for cs in covered.values() for c in cs])
    assert 0.895 <= overall <= 0.92  # at least 0.9, and at most 0.9 + 1 / (n + 1) beyond sampling error
    rare = [np.mean(covered[k]) for k in (2, 3)]
    if class_conditional:
        assert min(rare) >= 0.89
    assert 1 < np.mean(sizes) < 4  # informative: neither always one class nor all of them


def test_the_most_probable_class_is_in_every_set_and_sets_are_ordered():
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert calibration.prediction_sets(probs, np.zeros(3)) == [[1], [0]]
    assert calibration.prediction_sets(probs, np.full(3, 0.75)) == [[1, 2], [0, 2]]


@pytest.mark.parametrize("coverage, n, match", [
    (0.99, 50, "--coverage 0.99 needs at least 99 held-out items; the model has 50"),
    (1.0, 50, "--coverage must lie strictly between 0 and 1"),
    (0.0, 50, "--coverage must lie strictly between 0 and 1"),
])
def test_a_coverage_the_held_out_items_cannot_give_is_refused(coverage, n, match):
    with pytest.raises(UsageError, match=match):
        calibration.thresholds(calibration.Calibration(1.0, [0.5] * n, [0] * n), coverage, 2)


@pytest.mark.slow
def test_a_trained_model_keeps_its_calibration_and_its_sets_cover_a_test_file(tmp_path):
    gunpoint = SAMPLES / "GunPoint"
    trained = run("train", gunpoint / "GunPoint_TRAIN.tsv", "--arch", "tf_efficientnet_lite0", "--size", "64",
                  "--member", "ridge", "--out", tmp_path / "run", "--json")
    assert trained.exit_code == 0, trained.stderr
    report = json.loads(trained.stdout)["calibration"]
    assert report["items"] == 50 and report["temperature"] > 0 and (tmp_path / "run" / "reliability.png").exists()
    predicted = run("predict", "series", tmp_path / "run", gunpoint / "GunPoint_TEST.tsv", "--coverage", "0.9", "--json")
    assert predicted.exit_code == 0, predicted.stderr
    document = json.loads(predicted.stdout)
    assert document["covered"] >= 0.85 and all(row["label"] == row["set"][0] for row in document["predictions"])
    too_fine = run("predict", "series", tmp_path / "run", gunpoint / "GunPoint_TEST.tsv", "--coverage", "0.99")
    assert too_fine.exit_code == 2 and "needs at least 99 held-out items; the model has 50" in too_fine.stderr


def test_a_model_file_from_before_calibration_still_predicts_says_so_once_and_refuses_sets(tmp_path):
    model = make_model(tmp_path / "old.safetensors", calibrated=False)
    write_images(tmp_path / "imgs", ["a.png", "b.png"])
    result = run("predict", "image", model, tmp_path / "imgs")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("not calibrated (trained before petclf calibrated its models") == 1
    refused = run("predict", "image", model, tmp_path / "imgs", "--coverage", "0.9")
    assert refused.exit_code == 2 and "keeps no held-out scores" in refused.stderr


def test_class_conditional_without_a_coverage_is_refused(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    write_images(tmp_path / "imgs", ["a.png"])
    refused = run("predict", "image", model, tmp_path / "imgs", "--class-conditional")
    assert refused.exit_code == 2 and "--class-conditional goes with --coverage P" in refused.stderr
