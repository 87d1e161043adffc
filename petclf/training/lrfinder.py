"""fastai's learning-rate finder (``Learner.lr_find``), its suggestions with the points they
chose on the curve, and its plot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from petclf.errors import PetclfError

SUGGESTIONS = ("valley", "slide", "minimum", "steep")


@dataclass(frozen=True)
class LrFinding:
    suggestions: dict[str, float]
    points: dict[str, tuple[float, float]]  # suggestion -> (lr, loss) on the curve
    lrs: list[float]
    losses: list[float]
    train_lr: float  # the rate train uses on these data: the valley suggestion, or the data's default
    train_lr_source: str = "finder (valley)"


def find_lr(learn, iters: int) -> LrFinding:
    """fastai's ``lr_find`` and its suggestion functions. fastai saves the model before the sweep
    and loads it after (``weights_only``, no pickle) under ``learn.path``: here a temporary folder,
    so that nothing is left in the user's. The suggestions are computed here from the recorded
    curve, as fastai's are, to keep the points they chose (for the plot) and to stop the curve at
    an infinite loss too, not only at NaN."""
    import tempfile

    import torch
    from fastai.callback.schedule import minimum, slide, steep, valley

    where = learn.path
    with tempfile.TemporaryDirectory(prefix="petclf-lr-find-") as scratch:
        learn.path = Path(scratch)
        try:
            learn.lr_find(num_it=iters, show_plot=False, suggest_funcs=None)
        finally:
            learn.path = where
    learn.opt = None  # training starts with a fresh optimizer, as a new Learner would
    lrs = torch.tensor(learn.recorder.lrs[iters // 10:-5])
    losses = torch.tensor([float(x) for x in learn.recorder.losses[iters // 10:-5]])
    finite = torch.isfinite(losses)
    if not finite.all():  # keep the points before the first NaN/inf
        first_bad = int(finite.long().argmin())
        lrs, losses = lrs[:first_bad], losses[:first_bad]
    if len(losses) < 16:  # fastai's slide suggestion looks 15 points back
        raise PetclfError(f"the learning-rate finder stopped after {len(learn.recorder.losses)} batches "
                          "(the loss diverged): too few to suggest a rate; pass --lr")
    found = {f.__name__: f(lrs, losses, iters) for f in (valley, slide, minimum, steep)}
    return LrFinding({name: float(lr) for name, (lr, _) in found.items()},
                     {name: (float(p[0]), float(p[1])) for name, (_, p) in found.items()},
                     lrs.tolist(), losses.tolist(), train_lr=float(found["valley"][0]))


def save_plot(finding: LrFinding, path: Path) -> None:
    from petclf.plots import save_lr_plot

    save_lr_plot(finding.lrs, finding.losses, finding.suggestions, finding.points,
                 (finding.train_lr, finding.train_lr_source), path)


def keep_plot(run: Path, tmp: Path) -> None:
    """A resumed run keeps the finder's plot of the run it continues."""
    import shutil

    if (run / "lr_find.png").is_file():
        shutil.copy2(run / "lr_find.png", tmp / "lr_find.png")
