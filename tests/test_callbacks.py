"""Early stopping's patience, as a table: how many epochs without a lower validation loss
end training, counted from the best epoch, or from where a continued run went on; and the one
read of fastai's Recorder, on a real fit."""

import pytest

from petclf.training.callbacks import KeepBest, epoch_values
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


def test_each_epochs_losses_and_metrics_are_read_by_name_from_fastais_recorder():
    import torch
    from fastai.callback.core import Callback
    from fastai.callback.progress import ProgressCallback
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.metrics import accuracy, error_rate
    from fastai.torch_core import set_seed

    class Read(Callback):
        order = 70  # after the Recorder, as the Board

        def after_epoch(self):
            read.append(epoch_values(self.recorder))

    set_seed(0)
    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    pairs = list(zip(x, y, strict=True))
    dls = DataLoaders.from_dsets(pairs[:48], pairs[48:], bs=16, device="cpu")
    read = []
    learn = Learner(dls, torch.nn.Linear(4, 2), loss_func=torch.nn.CrossEntropyLoss(), metrics=[error_rate, accuracy])
    learn.remove_cb(ProgressCallback)
    learn.fit(2, 1e-2, cbs=[Read()])
    assert [list(row) for row in read] == [["train_loss", "valid_loss", "error_rate", "accuracy"]] * 2
    assert read[-1]["valid_loss"] == pytest.approx(float(learn.validate()[0]), rel=1e-5)
    assert read[-1]["accuracy"] == pytest.approx(1 - read[-1]["error_rate"])
