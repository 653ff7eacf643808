"""The paper's networks with relational layers (every relational layer uses the same graph): the 5-layer MLP,
the 8-layer CNN, and ResNet-34, ResNet-34-sep and ResNet-50 on vis-core's torchvision-named ResNet. Stems
and classifiers stay dense. Each model has a width; `matched_width` finds the smallest one whose masked
MACs reach the dense (complete-graph) model's."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

from vis.core.models.resnet import resnet
from vis.relgraph.layers import RelationalConv2d, RelationalLinear, masked_macs, match_width, relationalize

MODELS = ("mlp", "cnn", "resnet34", "resnet34sep", "resnet50")
BASE_WIDTH = {"mlp": 512, "cnn": 64, "resnet34": 64, "resnet34sep": 64, "resnet50": 64}
"""The dense baseline's width: the MLP's hidden width, the CNN's and ResNets' first-stage width."""


class RelationalMLP(nn.Module):
    """Flatten -> dense stem Linear(in, 512) + BN + ReLU -> `layers` relational layers (512 -> w, w -> w, ...)
    each + BN + ReLU -> dense Linear(w, classes). Linear weights N(0, 0.01)."""

    def __init__(self, in_dim: int, width: int, adj: np.ndarray, num_classes: int = 10, layers: int = 3,
                 stem_dim: int = 512):
        super().__init__()
        blocks: list[nn.Module] = [nn.Linear(in_dim, stem_dim, bias=False), nn.BatchNorm1d(stem_dim), nn.ReLU()]
        dims = [stem_dim] + [width] * layers
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            blocks += [RelationalLinear(d_in, d_out, adj), nn.BatchNorm1d(d_out), nn.ReLU()]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, num_classes)
        for m in (self.body[0], self.head):
            nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x.flatten(1)))


class RelationalCNN(nn.Module):
    """The 8-layer CNN: dense stem 3x3 conv (3 -> 64) + BN + ReLU, six relational 3x3 convs of widths w, w,
    2w, 2w, 4w, 4w (stride 2 entering the second and third pairs; 64 / 128 / 256 at the baseline), each + BN
    + ReLU, global average pooling, dense linear classifier."""

    def __init__(self, width: int, adj: np.ndarray, num_classes: int = 10, stem_dim: int = 64):
        super().__init__()
        widths = [width, width, 2 * width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = [nn.Conv2d(3, stem_dim, 3, padding=1, bias=False), nn.BatchNorm2d(stem_dim),
                                   nn.ReLU()]
        for i, (c_in, c_out) in enumerate(zip([stem_dim, *widths[:-1]], widths, strict=True)):
            stride = 2 if i in (2, 4) else 1
            layers += [RelationalConv2d(c_in, c_out, 3, adj, stride=stride, padding=1), nn.BatchNorm2d(c_out),
                       nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SeparableBasicBlock(BasicBlock):
    """ResNet-34-sep's block: each 3x3 convolution of the basic block becomes a depthwise 3x3 followed by a
    1x1 convolution (the relational layer)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 *args, **kwargs):
        super().__init__(inplanes, planes, stride, downsample, *args, **kwargs)
        self.conv1 = nn.Sequential(nn.Conv2d(inplanes, inplanes, 3, stride, 1, groups=inplanes, bias=False),
                                   nn.Conv2d(inplanes, planes, 1, bias=False))
        self.conv2 = nn.Sequential(nn.Conv2d(planes, planes, 3, 1, 1, groups=planes, bias=False),
                                   nn.Conv2d(planes, planes, 1, bias=False))


def _in_stages(name: str, module: nn.Module) -> bool:
    return name.startswith("layer")  # every conv of the four stages, shortcuts included; not the stem


def build_model(name: str, width: int, adj: np.ndarray, num_classes: int, input_size: int,
                base_width: int | None = None) -> nn.Module:
    """Model `name` (one of MODELS) at `width` with every relational layer on the graph `adj` (n x n with
    self-loops); `base_width` (default BASE_WIDTH) sizes the dense stems: the MLP's stem output, the CNN's
    stem. ResNets on inputs of 64 px or less get a 3x3 stride-1 stem."""
    small = input_size <= 64
    base = base_width or BASE_WIDTH[name]
    if name == "mlp":
        return RelationalMLP(3 * input_size * input_size, width, adj, num_classes, stem_dim=base)
    if name == "cnn":
        return RelationalCNN(width, adj, num_classes, stem_dim=base)
    depth, block = {"resnet34": (34, None), "resnet34sep": (34, SeparableBasicBlock), "resnet50": (50, None)}[name]
    net = resnet(depth, width, num_classes=num_classes, small_input=small, block=block)
    return relationalize(net, adj, _in_stages)


def matched_width(name: str, adj: np.ndarray, num_classes: int, input_size: int,
                  base_width: int | None = None) -> int:
    """The smallest width whose masked MACs reach those of the dense model at the base width."""
    n, base = adj.shape[0], base_width or BASE_WIDTH[name]
    shape = (3, input_size, input_size)
    build: Callable[[int], nn.Module] = lambda w: build_model(name, w, adj, num_classes, input_size, base)
    with torch.device("meta"):
        target = masked_macs(build_model(name, base, np.ones((n, n)), num_classes, input_size, base), shape)
    return match_width(build, target, shape, base)
