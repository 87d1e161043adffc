import re
import subprocess
import sys

import numpy as np
import pytest
import timm
import torch
from conftest import DIGITS, run
from PIL import Image
from skimage import data as skdata
from timm.data import ImageNetInfo

from petclf.errors import DataError, UsageError
from petclf.model.backbones import Arch, find_arch
from petclf.model.weights import load_into, read_state_dict, resolve

LITE0 = Arch("tf_efficientnet_lite0", "timm")


@pytest.fixture(scope="module")
def imagenet_lite0():
    model = timm.create_model(LITE0.name, pretrained=False)
    weights = resolve(LITE0, allow_download=False)
    load_into(model, weights.state, weights.origin, drop=lambda key: False)
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


def test_offline_without_weights_says_what_to_pass(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(UsageError, match=r"pass --weights FILE, or --arch tf_efficientnet_lite0 .*, or --no-pretrained"):
        resolve(Arch("resnet18", "torchvision"))


