"""Stratified validation splits and folds: every class in its share, none left without training items."""

import re
from collections import Counter
from dataclasses import dataclass

import pytest

from petclf.errors import DataError, UsageError
from petclf.splits import LabelledSplit, check_split, stratified_folds, stratified_split

DIGITS_LIKE = [str(c) for c in range(10) for _ in range(30)]  # 10 classes of 30
PIG_LIKE = [f"c{c}" for c in range(52) for _ in range(2)]  # PigCVP: 52 classes of 2


@dataclass(frozen=True)
class Split(LabelledSplit):
    labels: list[str]
    valid: list[int]


def test_a_stratified_split_holds_out_each_class_in_its_share():
    valid = stratified_split(DIGITS_LIKE, 0.2, seed=0)
    assert len(valid) == 60 and Counter(DIGITS_LIKE[i] for i in valid) == {str(c): 6 for c in range(10)}


def test_a_stratified_split_is_seeded():
    assert stratified_split(DIGITS_LIKE, 0.2, 1) == stratified_split(DIGITS_LIKE, 0.2, 1)
    assert stratified_split(DIGITS_LIKE, 0.2, 1) != stratified_split(DIGITS_LIKE, 0.2, 2)


def test_a_split_never_takes_a_class_s_last_item():
    valid = set(stratified_split(PIG_LIKE, 0.5, seed=0))
    trained = Counter(label for i, label in enumerate(PIG_LIKE) if i not in valid)
    assert set(trained) == set(PIG_LIKE) and len(valid) == 52  # one of each pair held out


def test_remainders_go_to_the_classes_with_the_largest_share():
    labels = ["a"] * 7 + ["b"] * 3  # 20 %: a 1.4, b 0.6 -> 2 in all: a 1 and b 1
    valid = stratified_split(labels, 0.2, seed=0)
    assert sorted(labels[i] for i in valid) == ["a", "b"]


@pytest.mark.parametrize("labels, k", [(DIGITS_LIKE, 5), (PIG_LIKE, 5), (["a"] * 5 + ["b"] * 3, 3)])
def test_folds_cover_every_item_once_and_keep_every_class_in_training(labels, k):
    folds = stratified_folds(labels, k, seed=0)
    assert sorted(i for fold in folds for i in fold) == list(range(len(labels)))
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    for fold in folds:
        held = set(fold)
        assert {label for i, label in enumerate(labels) if i not in held} == set(labels)


@pytest.mark.parametrize("k, err_msg", [(1, "--folds must be at least 2 (got 1)"),
                                        (11, "--folds 11: more folds than the 10 items to share out")])
def test_bad_fold_counts_are_refused(k, err_msg):
    with pytest.raises(UsageError, match=re.escape(err_msg)):
        stratified_folds(["a", "b"] * 5, k, seed=0)


def test_a_class_found_only_in_the_validation_set_is_refused():
    split = Split(["a", "a", "b", "b", "c", "c"], valid=[4, 5])
    with pytest.raises(DataError, match=re.escape("data: class 'c' has no training items: all of its 2 are in the "
                                                  "validation set")):
        check_split("data", split, "items")
