import pytest
import torch

from petclf import network
from petclf.backbones import find_arch


@pytest.mark.parametrize("arch, cut, pool, side", [
    ("resnet18", 8, True, 64),                  # torchvision, cut before avgpool as fastai does
    ("convnext_tiny", 1, True, 64),             # torchvision, features only
    ("tf_efficientnet_lite0", None, True, 64),  # timm feature map: the head pools
    ("vit_tiny_patch16_224", None, False, 224),  # timm pooled features: no pooling in the head
])
def test_rebuild_gives_the_same_network_as_build(arch, cut, pool, side):
    model, spec = network.build(find_arch(arch), n_classes=3, weights=None)
    assert (spec.cut, spec.pool) == (cut, pool)
    again = network.rebuild(spec)
    again.load_state_dict(model.state_dict())  # strict: same names and shapes
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), again.eval()(x))
