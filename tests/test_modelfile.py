import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from petclf.errors import DataError
from petclf.model.build import NetSpec
from petclf.model.file import ModelMeta, SeriesInput, read_model, save_model
from petclf.series.fields import Imaging

META = ModelMeta(net=NetSpec("resnet18", "torchvision", 2, 512, True, 8), classes=["cat", "dog"],
                 image_size=64, mean=[0.5, 0.5, 0.5], std=[0.2, 0.2, 0.2], versions={"torch": "x"})


def test_metadata_round_trips_through_the_file(tmp_path):
    save_model(tmp_path / "m.safetensors", {"w": torch.arange(6.0).reshape(2, 3)}, META)
    state, meta = read_model(tmp_path / "m.safetensors")
    assert meta == META and torch.equal(state["w"], torch.arange(6.0).reshape(2, 3))


SERIES_META = ModelMeta(net=META.net, classes=["1", "2"], image_size=64, mean=[0.5] * 3, std=[0.5] * 3,
                        input="series", series=SeriesInput(6, 100, Imaging("gadf", 64, "viridis")))


def test_series_metadata_round_trips_through_the_file(tmp_path):
    save_model(tmp_path / "m.safetensors", {"w": torch.zeros(1)}, SERIES_META)
    assert read_model(tmp_path / "m.safetensors")[1] == SERIES_META


def test_how_series_are_drawn_sits_flat_in_the_file_as_it_always_has():
    """Model files from before ``Imaging`` held its fields beside channels and length."""
    flat = json.loads(SERIES_META.to_json())["series"]
    assert flat == {"channels": 6, "length": 100, "method": "gadf", "size": 64, "colormap": "viridis",
                    "scaling": "series", "low": None, "high": None, "label_col": "0"}
    assert ModelMeta.from_json(SERIES_META.to_json(), Path("m")) == SERIES_META


@pytest.mark.parametrize("stored, lengths", [({}, None), ({"lengths": "pad"}, "pad"),
                                             ({"resample": True}, "resample")])  # files before padding
def test_how_a_model_makes_series_one_length_is_read_back(stored, lengths):
    raw = json.loads(SERIES_META.to_json())
    raw["series"].update(stored)
    assert ModelMeta.from_json(json.dumps(raw), Path("m")).series.lengths == lengths


def mangled(**changes):
    raw = json.loads(META.to_json())
    for key, value in changes.items():
        raw[key] = value
    return json.dumps(raw)


@pytest.mark.parametrize("text, err_msg", [
    ("{not json", "petclf metadata is malformed"),
    (mangled(format="other/9"), "format is not petclf-model/1"),
    (mangled(classes=["only one"]), "classes do not match the network's outputs"),
    (mangled(std=[0.0, 1.0, 1.0]), "mean/std do not match the input channels"),
    (mangled(net={"arch": "x"}), "petclf metadata is malformed"),
    (mangled(image_size=-3), "bad image size or resize method"),
    (mangled(input="series"), "input is neither images nor described series"),
    (mangled(input="audio"), "input is neither images nor described series"),
    (mangled(input="series", series={"channels": 1, "length": 150, "method": "wavelet", "size": 64,
                                     "colormap": "viridis"}), "unknown series method or colormap"),
    (mangled(input="series", series={"channels": 0, "length": 150, "method": "gadf", "size": 64,
                                     "colormap": "viridis"}), "channels, length and size must be positive"),
    (mangled(input="series", series={"channels": 1, "length": 150, "method": "gadf", "size": 64,
                                     "colormap": "viridis", "lengths": "crop"}), "series lengths must be pad or "),
    (mangled(input="series", series={"channels": 1}), "petclf metadata is malformed"),
    (mangled(input="series", series={"channels": 1, "length": 9, "method": "gadf", "size": 8,
                                     "colormap": "gray", "scaling": "dataset", "low": [2.0], "high": [1.0]}),
     "dataset scaling needs low <= high for each channel"),
    (mangled(input="series", series={"channels": 1, "length": 9, "method": "gadf", "size": 8,
                                     "colormap": "gray", "scaling": "robust"}), "unknown series scaling"),
])
def test_malformed_metadata_is_refused(tmp_path, text, err_msg):
    save_file({"w": torch.zeros(1)}, str(tmp_path / "m.safetensors"), metadata={"petclf": text})
    with pytest.raises(DataError, match=re.escape(err_msg)):
        read_model(tmp_path / "m.safetensors")


def test_safetensors_without_petclf_metadata(tmp_path):
    save_file({"w": torch.zeros(1)}, str(tmp_path / "m.safetensors"))
    with pytest.raises(DataError, match="without petclf metadata"):
        read_model(tmp_path / "m.safetensors")


def test_truncated_model_file(tmp_path):
    save_model(tmp_path / "m.safetensors", {"w": torch.zeros(1000)}, META)
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "m.safetensors").write_bytes(data[:-100])
    with pytest.raises(DataError, match="not a readable safetensors file"):
        read_model(tmp_path / "m.safetensors")
