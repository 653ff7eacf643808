"""torchvision detection parts with the fixes detectron2-style detectors need: aligned RoIAlign, a
transform that never resizes (the data pipeline sizes images once) and pads batches to a fixed square, and
a channels-first LayerNorm for heads and pyramids."""

from __future__ import annotations

import math
from functools import partial

import torch
from torchvision.models.convnext import LayerNorm2d as _LayerNorm2d
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import MultiScaleRoIAlign, roi_align
from torchvision.ops.poolers import _convert_to_roi_format, _filter_input, initLevelMapper

LayerNorm2d = partial(_LayerNorm2d, eps=1e-6)
"""LayerNorm over the channels of [N, C, H, W] maps, eps 1e-6 (detectron2's LayerNorm)."""


class AlignedMultiScaleRoIAlign(MultiScaleRoIAlign):
    """MultiScaleRoIAlign with aligned=True (ROIAlignV2: pixel centres shifted by -0.5), which torchvision's
    class never passes, and with the levels' strides given: torchvision infers the scales from the first
    batch's image sizes and keeps them, which goes wrong for small or variable (jittered) images. Level
    assignment as torchvision's (canonical 224 at level 4)."""

    def __init__(self, featmap_names: list[str], output_size: int, sampling_ratio: int,
                 strides: tuple[int, ...] = (4, 8, 16, 32)):
        super().__init__(featmap_names, output_size, sampling_ratio)
        self.scales = [1.0 / s for s in strides]
        self.map_levels = initLevelMapper(round(math.log2(strides[0])), round(math.log2(strides[-1])),
                                          self.canonical_scale, self.canonical_level)

    def forward(self, x: dict[str, torch.Tensor], boxes: list[torch.Tensor], image_shapes: list[tuple[int, int]]):
        feats = _filter_input(x, self.featmap_names)
        rois = _convert_to_roi_format(boxes)
        levels = self.map_levels(boxes) if len(feats) > 1 else torch.zeros(len(rois), dtype=torch.int64)
        out = feats[0].new_zeros((len(rois), feats[0].shape[1], *self.output_size))
        for level, (feat, scale) in enumerate(zip(feats, self.scales, strict=True)):
            idx = torch.where(levels.to(rois.device) == level)[0]
            pooled = roi_align(feat, rois[idx], self.output_size, scale, self.sampling_ratio, aligned=True)
            out.index_put_((idx,), pooled.to(out.dtype))
        return out


class PaddedTransform(GeneralizedRCNNTransform):
    """Normalises and zero-pads every batch to `pad_size` x `pad_size` after normalisation (padding = mean
    colour), without resizing: training images come from large-scale jitter, test images from the evaluation
    resize, so resizing here would undo the scale jitter (torchvision re-resizes training images)."""

    def __init__(self, pad_size: int, image_mean: tuple[float, ...], image_std: tuple[float, ...]):
        super().__init__(pad_size, pad_size, list(image_mean), list(image_std), size_divisible=pad_size)
        self.pad_size = pad_size

    def resize(self, image: torch.Tensor, target: dict | None = None):
        if max(image.shape[-2:]) > self.pad_size:
            raise ValueError(f"image of size {tuple(image.shape[-2:])} exceeds the pad size {self.pad_size}")
        return image, target
