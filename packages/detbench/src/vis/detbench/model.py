"""The BenchDet detector (Li et al., 2021): a plain ViT with window attention and 4 global blocks, tapped
after blocks d/4, d/2, 3d/4 and d; resolution-modifying modules (4x: two deconvs with GroupNorm + GELU
between, 2x: one deconv, 1x: identity, 0.5x: max-pool; all keep D channels) bring the taps to strides
4 / 8 / 16 / 32 for a standard FPN; Mask R-CNN heads with BN (SyncBN) or GN; BEiT-style shared relative
position bias tables and optional layer scale."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn as nn

from vis.core.config import ViTOptions
from vis.core.models.fpn import FPNNeck, resample
from vis.core.models.rcnn import PerImageRCNN, build_rcnn
from vis.core.models.vit_det import DetViT, global_block_indices
from vis.detbench.config import BenchDetOptions

SCALES = (4.0, 2.0, 1.0, 0.5)


def tap_blocks(depth: int) -> tuple[int, ...]:
    """0-based blocks whose outputs feed the pyramid: the last of each quarter (ViT-B 2, 5, 8, 11), which
    are also the global-attention blocks."""
    return global_block_indices(depth)


def group_norm(channels: int) -> nn.Module:
    """GroupNorm with 32 groups (the paper does not give the count; 32 is the usual default)."""
    return nn.GroupNorm(math.gcd(32, channels), channels)


def head_norm(kind: str) -> Callable[[int], nn.Module]:
    """BatchNorm2d (the Trainer makes it SyncBN with several processes) or GroupNorm."""
    return nn.BatchNorm2d if kind == "bn" else group_norm


class TapPyramid(nn.Module):
    """Backbone for torchvision's MaskRCNN: the trunk's four taps, each through its resolution module
    (`adapters`), then the FPN; forward returns p2..p6 with `out_channels` channels."""

    def __init__(self, net: DetViT, dim: int, out_channels: int, norm: Callable[[int], nn.Module]):
        super().__init__()
        self.net, self.out_channels = net, out_channels
        self.taps = tap_blocks(len(net.blocks))
        self.adapters = nn.ModuleList(resample(dim, s, group_norm, keep_width=True)[0] for s in SCALES)
        self.fpn = FPNNeck([dim] * len(SCALES), out_channels, norm)

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        maps = self.net.forward_intermediates(x, self.taps)
        feats = OrderedDict((f"p{i + 2}", a(m)) for i, (a, m) in enumerate(zip(self.adapters, maps, strict=True)))
        return self.fpn(feats)


def beit_rescale(trunk: DetViT) -> None:
    """BEiT's initialisation of a random trunk: the output projections of block i (attention proj, mlp fc2)
    divided by sqrt(2 (i + 1)) after trunc-normal(0.02) (the paper's random init uses BEiT's code)."""
    with torch.no_grad():
        for i, blk in enumerate(trunk.blocks):
            blk.attn.proj.weight.div_(math.sqrt(2.0 * (i + 1)))
            blk.mlp.fc2.weight.div_(math.sqrt(2.0 * (i + 1)))


def build_trunk(vit: ViTOptions, det: BenchDetOptions, img_size: int) -> DetViT:
    trunk = DetViT(img_size=img_size, patch_size=vit.patch_size, embed_dim=vit.embed_dim, depth=vit.depth,
                   num_heads=vit.num_heads, drop_path_rate=det.drop_path, window_size=det.window_size,
                   global_blocks=det.global_blocks, use_rel_pos=False, shared_rel_bias=det.rel_pos_bias,
                   init_values=det.layer_scale, pretrain_img_size=det.pretrain_img_size,
                   checkpoint_blocks=det.checkpoint_blocks)
    beit_rescale(trunk)
    return trunk


def build_detector(vit: ViTOptions, det: BenchDetOptions, img_size: int) -> PerImageRCNN:
    """Mask R-CNN on the tapped ViT with the resolution modules and the FPN."""
    norm = head_norm(det.norm)
    backbone = TapPyramid(build_trunk(vit, det, img_size), vit.embed_dim, det.head_channels, norm)
    p = vit.patch_size
    return build_rcnn(backbone, det.num_classes, img_size, det.anchor_sizes, det.fc_dim, norm=norm,
                      detections_per_img=det.detections_per_img, rois_per_image=det.rois_per_image,
                      rpn_post_nms=det.rpn_post_nms, strides=(p // 4, p // 2, p, 2 * p))


def meta_detector(vit: ViTOptions, det: BenchDetOptions, img_size: int = 1024) -> PerImageRCNN:
    """The detector on the meta device (no memory, no init cost): for parameter counts."""
    with torch.device("meta"):
        return build_detector(vit, det, img_size)
