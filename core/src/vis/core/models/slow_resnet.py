"""Slow-only video ResNets (Feichtenhofer et al., SlowFast 2019; the rho-video study's backbone).

Slow-R50 8x8: a 1x7x7 stem conv (stride 1, 2, 2) and a 1x3x3 max-pool (stride 1, 2, 2), then bottleneck
stages [3, 4, 6, 3] of widths 256 / 512 / 1024 / 2048 whose first 1x1 conv has temporal kernel 1 in res2 /
res3 and 3 in res4 / res5 (SlowFast's `_TEMPORAL_KERNEL_BASIS["slow"]`); the middle conv is always 1x3x3 and
carries the spatial stride; there is no temporal downsampling, so 8 x 224^2 gives 2048 x 8 x 7 x 7, average
pooled to 2048. torchvision's VideoResNet cannot express the per-stage temporal kernel, hence this module;
names follow torchvision's 2-D ResNet (conv1, bn1, layer1..4, fc).
"""

from __future__ import annotations

import torch
import torch.nn as nn


class SlowBottleneck(nn.Module):
    """Tx1x1 -> 1x3x3 (spatial stride) -> 1x1x1 (x4 expansion) with a projection shortcut where shapes change."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int, temporal_kernel: int):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv3d(inplanes, planes, (temporal_kernel, 1, 1), padding=(temporal_kernel // 2, 0, 0),
                               bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(nn.Conv3d(inplanes, out, 1, stride=(1, stride, stride), bias=False),
                                            nn.BatchNorm3d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class SlowResNet(nn.Module):
    """A Slow pathway ResNet; `forward` returns pooled features [N, num_features] (num_classes=0) or logits.
    Input: normalised clips [N, 3, T, H, W]."""

    def __init__(self, layers: tuple[int, ...] = (3, 4, 6, 3), width: int = 64,
                 temporal_kernels: tuple[int, ...] = (1, 1, 3, 3), num_classes: int = 0,
                 zero_init_residual: bool = True, dropout: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv3d(3, width, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        inplanes = width
        for i, (blocks, kt) in enumerate(zip(layers, temporal_kernels, strict=True)):
            planes = width * 2**i
            stage = []
            for b in range(blocks):
                stage.append(SlowBottleneck(inplanes, planes, 2 if (b == 0 and i > 0) else 1, kt))
                inplanes = planes * SlowBottleneck.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*stage))
        self.num_features = inplanes
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(inplanes, num_classes) if num_classes > 0 else nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # SlowFast's ZERO_INIT_FINAL_BN: every block starts as the identity
            for m in self.modules():
                if isinstance(m, SlowBottleneck):
                    nn.init.zeros_(m.bn3.weight)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's output [N, num_features, T, H/32, W/32] (no temporal downsampling)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally average-pooled features [N, num_features] (pool5)."""
        return torch.flatten(self.avgpool(self.feature_map(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


VIDEO_BACKBONES = ("slow-r50", "slow-tiny", "r3d_18", "r2plus1d_18")


def video_backbone(name: str, num_classes: int = 0, dropout: float = 0.0) -> nn.Module:
    """A video backbone with `num_features` and `features(x)`: slow-r50 (8x8), slow-tiny (widths / 8, one
    block per stage, same kernel layout) or torchvision's r3d_18 / r2plus1d_18 (random init, small baselines)."""
    if name == "slow-r50":
        return SlowResNet(num_classes=num_classes, dropout=dropout)
    if name == "slow-tiny":
        return SlowResNet((1, 1, 1, 1), 8, num_classes=num_classes, dropout=dropout)
    if name in ("r3d_18", "r2plus1d_18"):
        return _torchvision_video(name, num_classes, dropout)
    raise ValueError(f"unknown video backbone {name}; known: {', '.join(VIDEO_BACKBONES)}")


class _TorchvisionVideo(nn.Module):
    def __init__(self, net: nn.Module, num_classes: int, dropout: float):
        super().__init__()
        self.num_features = net.fc.in_features
        net.fc = nn.Identity()
        self.net = net
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


def _torchvision_video(name: str, num_classes: int, dropout: float) -> nn.Module:
    from torchvision.models import video

    return _TorchvisionVideo(getattr(video, name)(weights=None), num_classes, dropout)
