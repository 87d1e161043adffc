"""training/balance.py: the weights --balance weights gives each class's loss."""

import pytest

from petclf.training.balance import class_weights


@pytest.mark.parametrize("labels, classes, weights", [
    (["a", "a", "a", "b"], ["a", "b"], [4 / 6, 4 / 2]),  # n / (k * count): the rare class weighs three times more
    (["a", "b"], ["a", "b"], [1.0, 1.0]),
    (["a", "a", "b"], ["a", "b", "c"], [3 / 6, 3 / 3, 0.0]),  # a class with no training item: no weight
])
def test_each_class_weighs_the_inverse_of_its_size(labels, classes, weights):
    assert class_weights(labels, classes) == pytest.approx(weights)
