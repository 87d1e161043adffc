"""Grad-CAM: the map follows the evidence, folds onto a series' time axis, and the command
writes one heat-map per input."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import SAMPLES, make_model, run, write_images
from torch import nn

from petclf.evaluation.explain import distinct_names, explain, time_attention
from petclf.inference import Classifier
from petclf.model.layers import Probabilities


class HalfScores(nn.Module):
    """Class 0 scores the left half of the feature map, class 1 the right half."""

    def forward(self, features):
        half = features.shape[-1] // 2
        return torch.stack([features[..., :half].mean((1, 2, 3)), features[..., half:].mean((1, 2, 3))], 1)


def test_the_map_lies_where_the_evidence_for_the_class_is():
    body = nn.Conv2d(3, 1, 1)
    nn.init.ones_(body.weight), nn.init.zeros_(body.bias)
    wrapper = Probabilities(nn.Sequential(body, HalfScores()), [0.0] * 3, [1.0] * 3)
    classifier = Classifier(SimpleNamespace(classes=["left", "right"]), None, "cpu", wrapper)
    image = np.zeros((1, 8, 8, 3), np.uint8)
    image[:, :2, :2] = 255  # a bright corner, top left
    found = explain(classifier, image, target="left")
    assert found.cams.shape == (1, 8, 8) and found.cams.max() == pytest.approx(1.0)
    assert found.cams[0, :2, :2].mean() > 0.9 > 0.1 > found.cams[0, 4:, 4:].mean()
    assert found.target == [0] and np.array_equal(found.images, image)


def test_a_series_map_folds_onto_the_times_it_relates():
    cam = np.zeros((16, 16))
    cam[4, :] = cam[:, 4] = 1  # pixel (i, j) relates times i and j: all of the map concerns time 4
    attention = time_attention(cam, channels=1, length=160)
    assert attention.shape == (1, 160) and attention.max() == 1.0
    assert abs(int(attention[0].argmax()) - 4 * 159 / 15) <= 1


def test_explain_writes_a_heat_map_per_image_and_names_the_class(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    images = write_images(tmp_path / "photos", ["a.png", "b.png"], size=40)
    result = run("explain", model, tmp_path / "photos", "--class", "c1", "--out", tmp_path / "cams", "--json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert [f["item"] for f in found] == [str(p) for p in images] and {f["class"] for f in found} == {"c1"}
    assert sorted(p.name for p in (tmp_path / "cams").iterdir()) == ["a-cam.png", "b-cam.png"]


def test_two_inputs_with_one_file_name_get_two_heat_maps(tmp_path):
    model = make_model(tmp_path / "m.safetensors")
    images = write_images(tmp_path, ["rocket/t000.jpg", "coffee/t000.jpg"], size=40)
    result = run("explain", model, *images, "--out", tmp_path / "cams", "--json")
    assert result.exit_code == 0, result.stderr
    assert [f["heat_map"] for f in json.loads(result.stdout)] == [
        str(tmp_path / "cams" / "rocket_t000-cam.png"), str(tmp_path / "cams" / "coffee_t000-cam.png")]
    assert len(list((tmp_path / "cams").iterdir())) == 2


def test_explain_draws_a_series_map_over_its_field_and_its_curve(tmp_path):
    model = make_model(tmp_path / "m.safetensors", length=150)
    result = run("explain", model, SAMPLES / "GunPoint" / "GunPoint_TEST.tsv", "--rows", "2",
                 "--out", tmp_path / "cams", "-q")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "cams").iterdir()) == ["GunPoint_TEST-row0-cam.png",
                                                                     "GunPoint_TEST-row1-cam.png"]


@pytest.mark.parametrize("paths, names", [
    (["a/x.png", "b/y.png"], ["x", "y"]),
    (["rocket/t000.jpg", "coffee/t000.jpg"], ["rocket_t000", "coffee_t000"]),
    (["d/a/t.png", "e/a/t.png", "f/u.png"], ["d_a_t", "e_a_t", "u"]),
    (["a/t.png", "a/t.jpg"], ["a_t", "a_t-2"]),  # one stem in one folder: numbered
    (["t.png", "t.png"], ["t", "t-2"]),
])
def test_each_input_gets_a_heat_map_name_of_its_own(paths, names):
    assert distinct_names(paths) == names


@pytest.mark.parametrize("arch, side, layer, size", [
    (("tf_efficientnet_lite0", "timm"), 64, "model.blocks.2", (8, 8)),  # the body's own map would be 2 x 2
    (("tf_efficientnet_lite0", "timm"), 224, "", (7, 7)),  # the body's own, as Grad-CAM usually takes it
    (("resnet18", "torchvision"), 64, "5", (8, 8)),  # layer2 of conv1, bn1, relu, maxpool, layer1, layer2, ...
    (("resnet18", "torchvision"), 32, "4", (8, 8)),  # layer2 would be 4 x 4: layer1
])
def test_the_heat_map_comes_from_the_deepest_stage_with_a_fine_enough_map(arch, side, layer, size):
    from petclf.evaluation.explain import cam_layer
    from petclf.model import build as network
    from petclf.model.backbones import Arch

    net, _ = network.build(Arch(*arch), 2, None)
    name, _, found = cam_layer(net[-2].eval(), torch.zeros(1, 3, side, side))
    assert (name, found) == (layer, size)
