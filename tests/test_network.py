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


@pytest.mark.parametrize("arch, levels, n_features", [
    ("tf_efficientnet_lite0", [1, 2, 3], 2 * (24 + 40 + 112)),  # timm: forward_intermediates of feature_info
    ("resnet18", [1, 2, 3], 2 * (64 + 128 + 256)),               # torchvision: layer1, layer2, layer3
])
def test_a_linear_head_reads_the_middle_levels_of_each_view_apart(arch, levels, n_features):
    model, spec = network.build(find_arch(arch), n_classes=3, head="linear", views=3)
    assert (spec.levels, spec.views, spec.n_features, spec.pool) == (levels, 3, 3 * n_features, False)
    body = model[0].eval()
    views = torch.randn(3, 2, 3, 64, 64)
    with torch.no_grad():
        side_by_side = body(torch.cat(list(views), dim=3))
        apart = torch.cat([_one_view(body, view) for view in views], dim=1)
    torch.testing.assert_close(side_by_side, apart)
    again = network.rebuild(spec)
    again.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 192)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), again.eval()(x))


def _one_view(body, view):
    from petclf.model.layers import LevelPool

    return LevelPool(body.model, body.levels)(view)


def test_torchvision_levels_end_where_the_resolution_halves():
    from petclf.model.layers import level_ends

    resnet = network.build(find_arch("resnet18"), n_classes=2)[0][0]
    assert level_ends(resnet) == [2, 4, 5, 6, 7]  # relu, layer1 (after the max pool), layer2, layer3, layer4
