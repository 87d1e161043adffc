"""petclf: transfer learning with fastai from the command line, and the same calls as a library
(``petclf.api``: train, resume, load_model, predict, evaluate, series_to_images). Importing it is light:
torch and fastai load when a call needs them."""

from petclf.api import Predicted, evaluate, load_model, predict, resume, series_to_images, train

__version__ = "0.1.0"
__all__ = ["Predicted", "evaluate", "load_model", "predict", "resume", "series_to_images", "train"]
