"""The modules petclf adds around a backbone, as fastai defines them, in plain torch.

Imported only when a network is built (it imports torch at the top).
"""

from __future__ import annotations

import torch
from torch import nn


class TimmBody(nn.Module):
    """fastai's TimmBody: a timm model without its classifier, as a feature extractor."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.needs_pool = model.pretrained_cfg.get("pool_size") is not None
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(x) if self.needs_pool else self.model(x)


class LevelPool(nn.Module):
    """A backbone's feature maps at several of its feature levels (``levels``, numbered as
    timm's ``feature_info``: one level per resolution), each max- and average-pooled, side by
    side. A frozen pretrained body's middle levels describe a series image better than its last
    (bench/results/ucr-probe.md; TiViT finds the same of a ViT's layers). An image of ``views``
    drawn side by side (series/fields.py) goes through the backbone one view at a time, and
    their features are joined."""

    def __init__(self, model: nn.Module, levels: list[int], views: int = 1):
        super().__init__()
        self.model, self.levels, self.views = model, sorted(levels), views
        self.ends = None if hasattr(model, "forward_intermediates") else level_ends(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, V * W) to (V * B, C, H, W): the views one after another in the batch (no
        # batch size in the arithmetic, so that an ONNX export takes any)
        x = x.unflatten(3, (self.views, -1)).movedim(3, 0).flatten(0, 1)
        pooled = torch.cat([torch.cat([m.amax((2, 3)), m.mean((2, 3))], 1) for m in self._maps(x)], 1)
        return pooled.unflatten(0, (self.views, -1)).movedim(0, 1).flatten(1)

    def _maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.ends is None:  # timm
            return self.model.forward_intermediates(x, indices=self.levels, intermediates_only=True, stop_early=True)
        wanted, maps = [self.ends[level] for level in self.levels], []
        for index, child in enumerate(self.model[:wanted[-1] + 1]):
            x = child(x)
            if index in wanted:
                maps.append(x)
        return maps


def feature_levels(model: nn.Module, n_in: int = 3) -> int:
    """How many feature levels ``model`` has: timm's ``feature_info``, else the resolutions of a
    torchvision body's children."""
    info = getattr(model, "feature_info", None)
    return len(info) if info else len(level_ends(model, n_in))


def level_ends(body: nn.Sequential, n_in: int = 3) -> list[int]:
    """The last child of a torchvision body at each resolution, found by running a 64 px input
    through it (conv1 ... layer4 of a ResNet: relu, layer1, layer2, layer3, layer4)."""
    was_training, sides, ends = body.training, [], []
    x = torch.zeros(1, n_in, 64, 64)
    body.eval()
    with torch.no_grad():
        for index, child in enumerate(body):
            x = child(x)
            if sides and x.shape[-1] == sides[-1]:
                ends[-1] = index
            else:
                sides.append(x.shape[-1])
                ends.append(index)
    body.train(was_training)
    return ends


class ConcatPool(nn.Module):
    """fastai's AdaptiveConcatPool2d: max and average pooling side by side (max first). As
    reductions, not fastai's adaptive pooling layers: exporting adaptive max pooling to ONNX failed
    with torch 2.7 and 2.8 (make test-lowest's runs), and the numbers are the same."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.amax((2, 3), keepdim=True), x.mean((2, 3), keepdim=True)], 1)


def create_head(n_features: int, n_classes: int, pool: bool = True, dropout: float = 0.5) -> nn.Sequential:
    """fastai ``create_head`` with its defaults: the same layers in the same order, so the
    weights of a petclf model read like those of a fastai ``vision_learner``."""
    width = n_features * 2 if pool else n_features
    layers: list[nn.Module] = [ConcatPool(), nn.Flatten()] if pool else []
    layers += [nn.BatchNorm1d(width), nn.Dropout(dropout / 2), nn.Linear(width, 512, bias=False),
               nn.ReLU(inplace=True), nn.BatchNorm1d(512), nn.Dropout(dropout),
               nn.Linear(512, n_classes, bias=False)]
    head = nn.Sequential(*layers)
    for layer in head.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight)
    return head


def linear_head(n_features: int, n_classes: int, pool: bool = True) -> nn.Sequential:
    """One linear layer with a bias (after pooling, for a body that does not pool): the head of
    a ridge member (training/ridge.py), whose weights are a ridge classifier's fitted on the
    frozen body's pooled features."""
    width = n_features * 2 if pool else n_features
    return nn.Sequential(*([ConcatPool(), nn.Flatten()] if pool else []), nn.Linear(width, n_classes))


class RocketHead(nn.Module):
    """A ridge member's linear layer over the body's pooled features of the series' images and
    MiniRocket's features of the series itself (series/rocket.py), side by side. It reads the
    series, so the network that holds it passes them (stem.SeriesNet)."""

    def __init__(self, rocket: nn.Module, linear: nn.Linear):
        super().__init__()
        self.rocket, self.linear = rocket, linear

    def forward(self, features: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        return self.linear(self.joined(features, series))

    def joined(self, features: torch.Tensor, series: torch.Tensor) -> torch.Tensor:
        return torch.cat([features, self.rocket(series).to(features.dtype)], 1)


def head_output(head: nn.Module, features: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A head's scores for the body's ``features`` of input ``x`` (which a RocketHead reads too)."""
    return head(features, x) if isinstance(head, RocketHead) else head(features)


def linear_input(net: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """What the last linear layer of a linear head reads for input ``x``: the body's pooled
    features (and MiniRocket's of the series, for a RocketHead)."""
    head, features = net[-1], nn.Sequential(*net[:-1])(x)
    return head.joined(features, x) if isinstance(head, RocketHead) else nn.Sequential(*head[:-1])(features)


class RememberedBody(nn.Module):
    """A frozen body whose output for each input it has seen is looked up, not computed again:
    an ensemble's ridge members read the same series through the same pretrained body, and that
    pass is most of their fitting. ``seen`` (shared by the members) is keyed by a digest of the
    body's weights and of the input, so a body that differs (random weights, another seed) is
    never given another's features."""

    def __init__(self, body: nn.Module, seen: dict):
        super().__init__()
        self.body, self.seen = body, seen
        self.weights = _digest(*body.state_dict().values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keys = [(self.weights, _digest(item)) for item in x]
        missing = [i for i, key in enumerate(keys) if key not in self.seen]
        if missing:
            for i, out in zip(missing, self.body(x[missing]), strict=True):
                self.seen[keys[i]] = out
        return torch.stack([self.seen[key] for key in keys])


def _digest(*tensors: torch.Tensor) -> bytes:
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for t in tensors:
        digest.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.digest()


def last_linear(net: nn.Sequential) -> nn.Linear:
    head = net[-1]
    return head.linear if isinstance(head, RocketHead) else head[-1]


class Ensemble(nn.Module):
    """Members whose probabilities are averaged. It returns their log, so that a softmax of
    its output, as ``Probabilities`` and fastai apply, gives the average itself."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x).float().softmax(1) for m in self.members]).mean(0).log()


class SharedBodyEnsemble(Ensemble):
    """An ensemble whose members differ only in their heads (ridge members: one frozen pretrained
    body), run as one pass of that body and one of each head: the same probabilities, the body's
    work done once instead of once a member. ``members`` stay whole networks (for explain)."""

    def __init__(self, members: list[nn.Sequential]):
        super().__init__([type(member)(*members[0][:-1], member[-1]) for member in members])
        self.front = nn.Sequential(*members[0][:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.front(x)
        return torch.stack([head_output(m[-1], features, x).float().softmax(1) for m in self.members]).mean(0).log()


def shared(ensemble: Ensemble) -> Ensemble:
    """``ensemble`` as a SharedBodyEnsemble when its members' weights differ in their heads only."""
    first = ensemble.members[0][:-1].state_dict()
    same = all(all(torch.equal(t, member[:-1].state_dict()[name]) for name, t in first.items())
               for member in ensemble.members[1:])
    return SharedBodyEnsemble(list(ensemble.members)) if same else ensemble


class Probabilities(nn.Module):
    """What ``predict`` runs, in torch or exported to ONNX: a batch as read from disk (uint8 HWC
    pixels; or series, which the model's GafStem makes images of) to class probabilities. One
    module for both engines, so the normalisation cannot differ between them."""

    def __init__(self, model: nn.Module, mean: list[float] | None = None, std: list[float] | None = None,
                 temperature: float = 1.0):
        super().__init__()
        self.model, self.pixels, self.temperature = model, mean is not None, temperature  # calibration.py
        if self.pixels:  # (pixels / 255 - mean) / std as one multiply and one add
            std_ = torch.tensor(std).view(1, -1, 1, 1)
            self.register_buffer("scale", 1 / (255 * std_), persistent=False)
            self.register_buffer("shift", -torch.tensor(mean).view(1, -1, 1, 1) / std_, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pixels:
            x = x.permute(0, 3, 1, 2).float() * self.scale + self.shift
        return (self.model(x).float() / self.temperature).softmax(1)
