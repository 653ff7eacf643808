"""Mask R-CNN and Cascade Mask R-CNN from torchvision parts, configured as detectron2's LazyConfigs that
ViTDet (and BenchDet) use: 2-conv RPN, 4conv1fc box head and 4-conv mask head with a configurable norm,
aligned RoIAlign, fixed square padding and no resize inside the model."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNConvFCHead, FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.rpn import RPNHead

from vis.core.data.loader import per_sample_rng
from vis.core.models.det_layers import AlignedMultiScaleRoIAlign, LayerNorm2d, PaddedTransform

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
"""detectron2's (123.675, 116.28, 103.53) / (58.395, 57.12, 57.375) in 0-255 units, here for 0-1 images."""
CASCADE_WEIGHTS = ((10.0, 10.0, 5.0, 5.0), (20.0, 20.0, 10.0, 10.0), (30.0, 30.0, 15.0, 15.0))
CASCADE_IOUS = (0.5, 0.6, 0.7)


class PerImageRCNN(MaskRCNN):
    """MaskRCNN whose training loss is the mean over images of each image's own losses, with each image's
    random draws (anchor and RoI sampling, drop path) under its own seed: what one image per GPU gives, and
    the same whether a batch runs in one process or is split over several."""

    def forward(self, images, targets=None, seeds: torch.Tensor | None = None):
        if not self.training or targets is None:
            return super().forward(images, targets)
        total: dict[str, torch.Tensor] = {}
        for i, (image, target) in enumerate(zip(images, targets, strict=True)):
            with per_sample_rng(int(seeds[i])) if seeds is not None else contextlib.nullcontext():
                losses = super().forward([image], [target])
            for k, v in losses.items():
                total[k] = total.get(k, 0) + v / len(images)
        return total


def box_head(channels: int, fc_dim: int, norm: Callable[[int], nn.Module] | None, convs: int = 4) -> nn.Module:
    """"4conv1fc": `convs` 3x3 convolutions (bias-free when normalised) + ReLU, then one FC to `fc_dim`."""
    return FastRCNNConvFCHead((channels, 7, 7), [channels] * convs, [fc_dim], norm_layer=norm)


def build_rcnn(
    backbone: nn.Module,
    num_classes: int,
    pad_size: int,
    anchor_sizes: Sequence[int] = (32, 64, 128, 256, 512),
    fc_dim: int = 1024,
    norm: Callable[[int], nn.Module] | None = LayerNorm2d,
    cascade: bool = False,
    detections_per_img: int = 100,
    score_thresh: float = 0.05,
    rois_per_image: int = 512,
    rpn_post_nms: int = 1000,
    image_mean: tuple[float, ...] = IMAGENET_MEAN,
    image_std: tuple[float, ...] = IMAGENET_STD,
    strides: tuple[int, ...] = (4, 8, 16, 32),
) -> PerImageRCNN:
    """Mask R-CNN (or Cascade with `cascade=True`) over `backbone`, whose forward returns an ordered dict of
    maps p2..p6 with `backbone.out_channels` channels; the RPN uses all of them, RoI heads the first four.

    RPN: IoU 0.3 / 0.7, 256 anchors at 50% positives, NMS 0.7, top 2000 (train) / 1000 (test) per level
    before NMS and `rpn_post_nms` (1000) after; RoI: `rois_per_image` (512) per image at 25% positives,
    IoU 0.5, box weights (10, 10, 5, 5); `strides` of p2..p5 for the RoI pooling. The paper's values are the
    defaults."""
    c = backbone.out_channels
    levels = ["p2", "p3", "p4", "p5"]
    anchors = AnchorGenerator(tuple((s,) for s in anchor_sizes), ((0.5, 1.0, 2.0),) * len(anchor_sizes))
    model = PerImageRCNN(
        backbone, num_classes=None,
        rpn_anchor_generator=anchors, rpn_head=RPNHead(c, 3, conv_depth=2),
        rpn_pre_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000, rpn_post_nms_top_n_train=rpn_post_nms,
        rpn_post_nms_top_n_test=rpn_post_nms, rpn_nms_thresh=0.7, rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3,
        rpn_batch_size_per_image=256, rpn_positive_fraction=0.5,
        box_roi_pool=AlignedMultiScaleRoIAlign(levels, 7, 0, strides), box_head=box_head(c, fc_dim, norm),
        box_predictor=FastRCNNPredictor(fc_dim, num_classes + 1), box_score_thresh=score_thresh,
        box_nms_thresh=0.5, box_detections_per_img=detections_per_img, box_fg_iou_thresh=0.5,
        box_bg_iou_thresh=0.5, box_batch_size_per_image=rois_per_image, box_positive_fraction=0.25,
        mask_roi_pool=AlignedMultiScaleRoIAlign(levels, 14, 0, strides),
        mask_head=MaskRCNNHeads(c, [c] * 4, 1, norm_layer=norm),
        mask_predictor=MaskRCNNPredictor(c, c, num_classes + 1),
    )
    model.transform = PaddedTransform(pad_size, image_mean, image_std)
    if cascade:
        from vis.core.models.cascade import CascadeRoIHeads

        model.roi_heads = CascadeRoIHeads.from_roi_heads(
            model.roi_heads, [box_head(c, fc_dim, norm) for _ in CASCADE_IOUS], num_classes, fc_dim
        )
    return model
