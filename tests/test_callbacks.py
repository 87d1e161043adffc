"""Early stopping's patience, as a table: how many epochs without a lower validation loss
end training, counted from the best epoch, or from where a continued run went on."""

import pytest

from petclf.training.callbacks import KeepBest
from petclf.training.checkpoint import Best


@pytest.mark.parametrize("patience, best_epoch, epochs_done, patience_from, stops", [
    (None, 0, 9, -1, False),  # no --early-stop
    (2, 3, 5, -1, False),     # epoch 4 was the first without a lower loss
    (2, 3, 6, -1, True),      # epochs 4 and 5 were not better
    (2, 3, 6, 4, False),      # a run continued after epoch 4: only epoch 5 counts
    (2, 3, 7, 4, True),
    (1, 6, 7, 4, False),      # a best epoch after the continuation counts from itself
])
def test_early_stop_counts_epochs_since_the_best_or_the_continuation(patience, best_epoch, epochs_done,
                                                                     patience_from, stops):
    keep = KeepBest(patience, quiet=True, best=Best(0.5, best_epoch, {}), done=epochs_done,
                    patience_from=patience_from)
    assert keep.stop_early() is stops
