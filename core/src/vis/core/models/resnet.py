"""torchvision ResNets (parameter names unchanged, so torchvision, MoCo v3 and SimSiam weights load
strictly), with two options torchvision lacks: a base width other than 64 (tiny CPU recipes) and a 3x3
stride-1 stem without max-pool for 32-pixel inputs."""

from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

LAYERS = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3]),
          101: (Bottleneck, [3, 4, 23, 3])}


class WideResNet(ResNet):
    """torchvision's ResNet with stage widths (w, 2w, 4w, 8w) instead of (64, 128, 256, 512); w = 64 is
    torchvision's model exactly (same modules, names and initialisation)."""

    def __init__(self, depth: int = 50, width: int = 64, num_classes: int = 1000, zero_init_residual: bool = True,
                 small_input: bool = False, block: type[BasicBlock] | type[Bottleneck] | None = None):
        if depth not in LAYERS:
            raise ValueError(f"unknown ResNet depth {depth}; known: {', '.join(map(str, LAYERS))}")
        default_block, layers = LAYERS[depth]
        block = block or default_block
        nn.Module.__init__(self)
        self._norm_layer, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, 1, 1, 64
        self.inplanes = width
        if small_input:  # 32 px: keep the resolution (CIFAR-style stem)
            self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool: nn.Module = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.num_features = 8 * width * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # each residual branch starts at zero: every block is the identity at init
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input: the average-pooled last stage, [N, num_features]."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


def resnet(depth: int = 50, width: int = 64, num_classes: int = 0, zero_init_residual: bool = True,
           small_input: bool = False, block: type[BasicBlock] | type[Bottleneck] | None = None) -> WideResNet:
    """A ResNet whose forward returns pooled features (`num_classes=0`, fc = Identity) or logits; `block`
    replaces the depth's block type (a subclass of BasicBlock / Bottleneck with the same constructor, e.g.
    the separable block of ResNet-34-sep)."""
    return WideResNet(depth, width, num_classes, zero_init_residual, small_input, block)
