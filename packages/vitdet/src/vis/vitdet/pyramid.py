"""ViTDet's simple feature pyramid: strides 4 / 8 / 16 / 32 built from the trunk's last map (stride 16 in
the paper; the patch size in general) alone by deconvolution and pooling, then a 1x1 and a 3x3 convolution
with LayerNorm per level; p6 is p5 max-pooled with stride 2. No lateral connections, no top-down path, no
activation after the convolutions."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.models.det_layers import LayerNorm2d
from vis.core.models.fpn import resample


class SimpleFeaturePyramid(nn.Module):
    """Backbone for torchvision's MaskRCNN: `net` (a trunk returning [B, D, H/stride, W/stride]) followed by
    the pyramid; forward returns an OrderedDict p2..p6 of `out_channels` maps (p6 only with `top_block`).
    The default scales put the levels at strides 4 / 8 / 16 / 32 whatever the trunk's stride, since the
    RoI heads pool each level at those fixed strides."""

    def __init__(self, net: nn.Module, dim: int, out_channels: int = 256, stride: int = 16,
                 scales: Sequence[float] | None = None, norm: Callable[[int], nn.Module] = LayerNorm2d,
                 top_block: bool = True):
        super().__init__()
        self.net, self.out_channels, self.top_block = net, out_channels, top_block
        scales = scales or [stride / s for s in (4, 8, 16, 32)]
        self.stages = nn.ModuleList()
        for s in scales:
            resampled, width = resample(dim, float(s), norm)
            self.stages.append(nn.Sequential(
                resampled, nn.Conv2d(width, out_channels, 1, bias=False), norm(out_channels),
                nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), norm(out_channels),
            ))
        self.names = [f"p{round(math.log2(stride / s))}" for s in scales]

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        top = self.net(x)
        out = OrderedDict((name, stage(top)) for name, stage in zip(self.names, self.stages, strict=True))
        if self.top_block:
            last = next(reversed(out.values()))
            out[f"p{int(self.names[-1][1:]) + 1}"] = F.max_pool2d(last, kernel_size=1, stride=2)
        return out
