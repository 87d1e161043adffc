import pytest
import torch
from conftest import DIGITS

from petclf import inputs
from petclf.errors import UsageError
from petclf.model import build as network
from petclf.model.backbones import Arch, find_arch, fixed_size


@pytest.mark.parametrize("arch, cut, pool, side", [
    ("resnet18", 8, True, 64),                  # torchvision, cut before avgpool as fastai does
    ("convnext_tiny", 1, True, 64),             # torchvision, features only
    ("tf_efficientnet_lite0", None, True, 64),  # timm feature map: the head pools
    ("vit_tiny_patch16_224", None, False, 224),  # timm pooled features: no pooling in the head
])
def test_rebuild_gives_the_same_network_as_build(arch, cut, pool, side):
    model, spec = network.build(find_arch(arch), n_classes=3)
    assert (spec.cut, spec.pool) == (cut, pool)
    again = network.rebuild(spec)
    again.load_state_dict(model.state_dict())  # strict: same names and shapes
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), again.eval()(x))


def test_a_model_of_one_input_size_gets_it_and_refuses_another():
    vit, resnet = Arch("vit_tiny_patch16_224", "timm"), Arch("resnet18", "torchvision")
    assert fixed_size(vit, None) == fixed_size(vit, 224) == 224
    assert fixed_size(vit, None, tiles=(2, 2)) == 112  # four channels' fields make the 224 px image
    assert fixed_size(resnet, 64) is fixed_size(resnet, None) is None
    with pytest.raises(UsageError, match=r"224 x 224 px images only: leave out --size \(or pass --size 224\)"):
        fixed_size(vit, 64)


def test_thumbnail_defaults_give_way_to_a_vits_input_size():
    from petclf.images.data import find_images
    from petclf.training.recipe import TrainOptions, with_defaults

    digits = find_images(DIGITS)
    assert with_defaults(TrainOptions("resnet18"), digits).size == inputs.THUMBNAILS.size
    assert with_defaults(TrainOptions("vit_tiny_patch16_224"), digits).size == 224
