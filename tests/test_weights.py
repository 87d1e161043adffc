import os
import re
import subprocess
import sys

import numpy as np
import pytest
import timm
import torch
import torchvision
from conftest import DIGITS, run
from PIL import Image
from skimage import data as skdata
from timm.data import ImageNetInfo

from petclf.errors import DataError, UsageError
from petclf.model.backbones import Arch, find_arch
from petclf.model.weights import load_into, packaged_file, pretrained_backbone, read_state_dict

LITE0 = Arch("tf_efficientnet_lite0", "timm")


@pytest.fixture(scope="module")
def imagenet_lite0():
    model = timm.create_model(LITE0.name, pretrained=False)
    load_into(model, read_state_dict(packaged_file()), "the package")
    return model.eval()


@pytest.mark.parametrize("picture, expected", [
    (skdata.chelsea, {"tiger cat", "tabby, tabby cat", "Egyptian cat"}),
    (skdata.coffee, {"espresso"}),
])
def test_packaged_weights_recognise_real_photos(imagenet_lite0, picture, expected):
    image = Image.fromarray(picture()).resize((224, 224), Image.Resampling.BILINEAR)
    x = (torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255 - 0.5) / 0.5
    with torch.no_grad():
        top = imagenet_lite0(x[None]).softmax(1)[0].argmax().item()
    assert ImageNetInfo().index_to_description(top) in expected


@pytest.mark.parametrize("spec, arch", [("resnet34", Arch("resnet34", "torchvision")),
                                        ("timm:resnet34", Arch("resnet34", "timm")),
                                        ("tf_efficientnet_lite0", LITE0)])
def test_arch_names(spec, arch):
    assert find_arch(spec) == arch


def test_unknown_arch_suggests_the_closest_names():
    with pytest.raises(UsageError, match=re.escape("unknown architecture 'resnet35'; did you mean resnet")):
        find_arch("resnet35")


def test_weights_file_that_does_not_fit_names_the_mismatches(tmp_path):
    torch.save({"conv_stem.weight": torch.zeros(3, 3, 3, 3)}, tmp_path / "w.pth")
    result = run("train", DIGITS, "--arch", "tf_efficientnet_lite0", "--weights", tmp_path / "w.pth",
                 "--out", tmp_path / "run")
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith(f"error: {tmp_path / 'w.pth'}: weights do not fit the architecture (missing: ")
    assert "wrong shape: conv_stem.weight (3, 3, 3, 3) vs (32, 3, 3, 3)" in message


def test_a_weights_file_with_a_pickle_payload_is_refused_unrun(tmp_path):
    marker = tmp_path / "pwned"
    code = (f"import pickle, os\nclass P:\n  def __reduce__(self): return (os.system, ('touch {marker}',))\n"
            f"open({str(tmp_path / 'w.pth')!r}, 'wb').write(pickle.dumps(P()))")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(DataError, match="not a plain state dict of tensors, refused"):
        read_state_dict(tmp_path / "w.pth")
    assert not marker.exists()


def offline(*args, **kwargs):
    raise OSError("no network")


def test_offline_without_weights_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    monkeypatch.setattr(torch.hub, "urlopen", offline)  # where torch hub downloads: offline even with a network
    with pytest.raises(UsageError, match=r"pass --weights FILE, or --arch tf_efficientnet_lite0 .*, or --no-pretrained"):
        pretrained_backbone(Arch("resnet18", "torchvision"))


def test_torchvision_weights_come_through_its_factory_from_the_torch_hub_cache(tmp_path, monkeypatch):
    """The cached file is read by torchvision's ``get_model`` (no download), whatever its name's hash."""
    url = torchvision.models.get_model_weights("resnet18").DEFAULT.url
    cached = torchvision.models.resnet18().state_dict()
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(cached, tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[1])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "urlopen", offline)
    backbone, origin = pretrained_backbone(Arch("resnet18", "torchvision"))
    assert origin == f"ResNet18_Weights.IMAGENET1K_V1 ({url})"
    assert all(torch.equal(tensor, cached[name]) for name, tensor in backbone.state_dict().items())


TIMM_FROM_CACHE = """
import sys, torch
from petclf.model.backbones import Arch
from petclf.model.weights import pretrained_backbone
backbone, origin = pretrained_backbone(Arch("resnet18", "timm"))
cached = torch.load(sys.argv[1])
print(origin, all(torch.equal(t, cached[n]) for n, t in backbone.state_dict().items()), "fc.weight" in cached)
"""


@pytest.mark.slow  # two fresh interpreters importing timm
def test_timm_weights_come_through_its_factory_from_the_hugging_face_cache(tmp_path):
    """timm's ``create_model(pretrained=True)`` finds them in the hub's cache (offline here, so no
    download can hide a miss) and drops the ImageNet classifier the body has no use for."""
    from safetensors.torch import save_file

    repo = tmp_path / "hub" / "models--timm--resnet18.a1_in1k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    cached = timm.create_model("resnet18").state_dict()
    save_file(cached, str(repo / "snapshots" / ("0" * 40) / "model.safetensors"))
    torch.save(cached, tmp_path / "expected.pt")
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", TIMM_FROM_CACHE, str(tmp_path / "expected.pt")], env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["hf-hub:timm/resnet18.a1_in1k", "True", "True"]

    env["HF_HUB_CACHE"] = str(tmp_path / "empty")
    done = subprocess.run([sys.executable, "-c", TIMM_FROM_CACHE, "-"], env=env, capture_output=True, text=True)
    assert "petclf.errors.UsageError: no pretrained weights for resnet18 in the caches" in done.stderr


def test_a_timm_model_without_pretrained_weights_says_so_before_any_download():
    with pytest.raises(UsageError, match=r"^convnext_atto_rms has no pretrained weights to download; pass --weights"):
        pretrained_backbone(Arch("convnext_atto_rms", "timm"))
