"""Training a run: what it trains with (``recipe``), the input kinds it trains on (``kinds``),
the run itself (``run``: fastai's fine_tune, ensembles), its callbacks, the learning-rate finder,
class balancing, the checkpoint Ctrl-C leaves, and the run folder it writes (``runfolder``)."""
