"""Pyramid parts for plain-ViT detectors: the resolution-changing modules that turn a stride-p map into
strides p/4, p/2, p, 2p (shared by ViTDet's simple pyramid and BenchDet's four taps), and a standard FPN
neck (lateral 1x1 + top-down + 3x3, optional norm; torchvision's FeaturePyramidNetwork) with p6."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


def resample(dim: int, scale: float, norm: Callable[[int], nn.Module], keep_width: bool = False
             ) -> tuple[nn.Module, int]:
    """The resampling of one level and its output width: 4x = two 2x2 deconvs with norm + GELU between,
    2x = one deconv, 1x = identity, 0.5x = 2x2 max-pool, 0.25x = 4x4 max-pool (a stride-8 trunk's
    stride-32 level). ViTDet halves the width per deconv (D -> D/2 -> D/4);
    with `keep_width` (BenchDet, after XCiT) every deconv keeps D."""
    half = (lambda c: c) if keep_width else (lambda c: c // 2)
    if scale == 4.0:
        return nn.Sequential(nn.ConvTranspose2d(dim, half(dim), 2, 2), norm(half(dim)), nn.GELU(),
                             nn.ConvTranspose2d(half(dim), half(half(dim)), 2, 2)), half(half(dim))
    if scale == 2.0:
        return nn.ConvTranspose2d(dim, half(dim), 2, 2), half(dim)
    if scale == 1.0:
        return nn.Identity(), dim
    if scale in (0.5, 0.25):
        return nn.MaxPool2d(round(1 / scale), round(1 / scale)), dim
    raise ValueError(f"unsupported pyramid scale {scale}")


class FPNNeck(nn.Module):
    """Standard FPN over an ordered dict of maps (finest first, e.g. p2..p5): lateral 1x1, top-down nearest
    upsampling and sum, 3x3 output convs, each conv followed by `norm` (bias-free then) as detectron2's FPN
    with norm="BN"/"SyncBN"; p6 = p5 max-pooled with kernel 1, stride 2 (detectron2's LastLevelMaxPool)."""

    def __init__(self, in_channels: Sequence[int], out_channels: int,
                 norm: Callable[[int], nn.Module] | None = None):
        super().__init__()
        self.fpn = FeaturePyramidNetwork(list(in_channels), out_channels, LastLevelMaxPool(), norm_layer=norm)

    def forward(self, feats: OrderedDict[str, torch.Tensor]) -> OrderedDict[str, torch.Tensor]:
        out = self.fpn(feats)
        last = int(list(feats)[-1][1:])
        return OrderedDict((f"p{last + 1}" if k == "pool" else k, v) for k, v in out.items())
