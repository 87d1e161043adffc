"""The model file: weights in safetensors, and in its header the JSON metadata needed to use
them (network spec, classes, preprocessing, versions). Nothing else is needed to predict.

safetensors is a header plus raw tensor bytes, so loading a model never runs code from it,
unlike pickle-based ``.pth``/``.pkl`` files (fastai's ``load_learner``: fastai issue 4163).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING

from petclf.atomic import atomic_file
from petclf.calibration import Calibration
from petclf.errors import DataError, UsageError
from petclf.model.build import HEADS, NetSpec
from petclf.series.fields import Imaging
from petclf.series.readers import FITS

if TYPE_CHECKING:
    import torch

    from petclf.series.readers import SeriesSet

FORMAT = "petclf-model/1"
MODEL_NAME = "model.safetensors"


INPUTS = ("image", "series")


@dataclass(frozen=True)
class SeriesInput:
    """The series a model reads and how its stem makes them images. In the file, ``imaging``'s
    fields sit beside the others, in one flat ``series`` object."""

    channels: int
    length: int
    imaging: Imaging
    label_col: str = "0"  # the label column of the training file, which predict series reads too
    # Trained on series of varying length, made ``length`` so ("pad" or "resample", readers.FITS): any
    # file's are made so. None: trained on series of one length, and takes only that.
    lengths: str | None = None
    windows: bool = True  # predict averages test-time windows by default (a ridge member was fitted on whole series)

    def read(self, path: Path, label_col: int | str | None) -> SeriesSet:
        """A file's series as this model reads them."""
        from petclf.series.readers import read_series

        return read_series(path, label_col, self.length if self.lengths else None, self.lengths or "pad")

    def to_dict(self) -> dict:
        return {"channels": self.channels, "length": self.length, **asdict(self.imaging), "label_col": self.label_col,
                **({"lengths": self.lengths} if self.lengths else {}), **({} if self.windows else {"windows": False})}

    @classmethod
    def from_dict(cls, flat: dict) -> SeriesInput:
        drawing = {name: flat.pop(name) for name in [f.name for f in dataclass_fields(Imaging)] if name in flat}
        if flat.pop("resample", False):  # files before padding: series of varying length were resampled
            flat["lengths"] = "resample"
        return cls(imaging=Imaging(**drawing), **flat)


@dataclass(frozen=True)
class ModelMeta:
    """What a trained model needs besides its weights."""

    net: NetSpec
    classes: list[str]
    image_size: int
    mean: list[float]
    std: list[float]
    resize: str = "crop"  # fastai Resize(size): the centre square, scaled to size x size (bilinear)
    input: str = "image"  # or "series": then ``series`` says which, and the network starts with a GafStem
    series: SeriesInput | None = None
    members: int = 1  # a cross-validated ensemble's models; their weights are under "members.K."
    versions: dict[str, str] = field(default_factory=dict)
    calibration: Calibration | None = None  # None: a model file from before petclf calibrated
    format: str = FORMAT

    @property
    def tta(self) -> bool:
        """Whether predictions average test-time views unless told: a fine-tuned series model's
        windows (a ridge member was fitted on whole series); never for images (--tta asks)."""
        return self.input == "series" and self.series.windows

    @property
    def temperature(self) -> float:
        return self.calibration.temperature if self.calibration else 1.0

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "series": self.series and self.series.to_dict(),
                           "calibration": self.calibration and self.calibration.to_dict()})

    @classmethod
    def from_json(cls, text: str, source: Path) -> ModelMeta:
        try:
            raw = json.loads(text)
            if raw.pop("format", None) != FORMAT:
                raise ValueError(f"format is not {FORMAT}")
            net = NetSpec(**raw.pop("net"))
            series, calibration = raw.pop("series", None), raw.pop("calibration", None)
            meta = cls(net=net, series=None if series is None else SeriesInput.from_dict(series),
                       calibration=None if calibration is None else Calibration.from_dict(calibration), **raw)
            _check(meta)
            return meta
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise DataError(source, f"petclf metadata is malformed ({error})") from None


def _check(meta: ModelMeta) -> None:
    if not all(isinstance(c, str) for c in meta.classes) or len(meta.classes) != meta.net.n_classes:
        raise ValueError("classes do not match the network's outputs")
    if len(meta.mean) != meta.net.n_in or len(meta.std) != meta.net.n_in or min(meta.std) <= 0:
        raise ValueError("mean/std do not match the input channels")
    if not (isinstance(meta.image_size, int) and meta.image_size > 0) or meta.resize != "crop":
        raise ValueError("bad image size or resize method")
    if not (isinstance(meta.members, int) and meta.members >= 1):
        raise ValueError("members must be a positive integer")
    if meta.net.source not in ("torchvision", "timm"):
        raise ValueError("unknown network source")
    if meta.net.head not in HEADS:
        raise ValueError("unknown head")
    levels = meta.net.levels
    if not (levels is None or (isinstance(levels, list) and all(isinstance(k, int) and k >= 0 for k in levels))):
        raise ValueError("levels must be a list of feature levels")
    if not (isinstance(meta.net.views, int) and meta.net.views >= 1):
        raise ValueError("views must be a positive integer")
    if meta.net.rocket is not None:
        _check_rocket(meta)
    if meta.input not in INPUTS or (meta.input == "series") != (meta.series is not None):
        raise ValueError("input is neither images nor described series")
    if meta.series is not None:
        _check_series(meta.series)


def _check_rocket(meta: ModelMeta) -> None:
    shape = meta.net.rocket
    counts = [shape.get("channels")] + list(shape.get("dilations", [])) + list(shape.get("features", []))
    if not (meta.net.head == "linear" and meta.series is not None and shape.keys() == {"channels", "dilations", "features"}
            and len(shape["dilations"]) == len(shape["features"]) > 0
            and all(isinstance(n, int) and n > 0 for n in counts) and shape["channels"] == meta.series.channels):
        raise ValueError("rocket must give the channels, dilations and features of a series model's linear head")


def _check_series(series: SeriesInput) -> None:
    from petclf.series import fields, gaf

    drawing = series.imaging
    if not all(isinstance(v, int) and v > 0 for v in (series.channels, series.length, drawing.size)):
        raise ValueError("series channels, length and size must be positive integers")
    try:
        fields.check_method(drawing.method)
    except (UsageError, AttributeError):
        raise ValueError("unknown series method or colormap") from None
    if not isinstance(drawing.colormap, str) or not isinstance(series.label_col, str):
        raise ValueError("unknown series method or colormap")
    if series.lengths not in (None, *FITS):
        raise ValueError("series lengths must be pad or resample")
    if drawing.scaling not in gaf.SCALINGS:
        raise ValueError("unknown series scaling")
    if drawing.scaling == "dataset" and not (
            isinstance(drawing.low, list) and isinstance(drawing.high, list)
            and len(drawing.low) == len(drawing.high) == series.channels
            and all(isinstance(v, (int, float)) for v in drawing.low + drawing.high)
            and all(lo <= hi for lo, hi in zip(drawing.low, drawing.high, strict=True))):
        raise ValueError("dataset scaling needs low <= high for each channel")


def save_model(path: Path, state: dict[str, torch.Tensor], meta: ModelMeta) -> None:
    from safetensors.torch import save_file

    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    with atomic_file(Path(path)) as tmp:
        save_file(tensors, str(tmp), metadata={"petclf": meta.to_json()})


def model_path(path: Path) -> Path:
    """A run folder or a model file, as the user may give either."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_NAME
    if not path.is_file():
        raise UsageError(f"{path}: no such model file")
    return path


def read_model(path: Path) -> tuple[dict[str, torch.Tensor], ModelMeta]:
    """Weights and metadata of a petclf model file; anything else is refused unread."""
    from safetensors import SafetensorError, safe_open

    path = model_path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
            if "petclf" not in header:
                raise DataError(path, "a safetensors file without petclf metadata (not a petclf model)")
            meta = ModelMeta.from_json(header["petclf"], path)
            state = {name: handle.get_tensor(name) for name in handle.keys()}
    except (SafetensorError, OSError) as error:
        raise DataError(path, f"not a petclf model: not a readable safetensors file ({error})") from None
    return state, meta
