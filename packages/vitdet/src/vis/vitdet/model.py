"""ViTDet detectors: a plain ViT trunk (window attention, 4 global blocks, decomposed rel-pos), the simple
feature pyramid and Mask R-CNN / Cascade Mask R-CNN heads from vis-core, plus the paper's parameter groups."""

from __future__ import annotations

import torch
from torchvision.models.detection import MaskRCNN

from vis.core.config import ViTOptions
from vis.core.models.rcnn import build_rcnn
from vis.core.models.vit_det import DetViT
from vis.vitdet.config import DetectorOptions
from vis.vitdet.pyramid import SimpleFeaturePyramid


def build_trunk(vit: ViTOptions, det: DetectorOptions, img_size: int) -> DetViT:
    return DetViT(img_size=img_size, patch_size=vit.patch_size, embed_dim=vit.embed_dim, depth=vit.depth,
                  num_heads=vit.num_heads, drop_path_rate=det.drop_path, window_size=det.window_size,
                  global_blocks=det.global_blocks, use_rel_pos=det.use_rel_pos,
                  pretrain_img_size=det.pretrain_img_size, checkpoint_blocks=det.checkpoint_blocks)


def build_detector(vit: ViTOptions, det: DetectorOptions, img_size: int) -> MaskRCNN:
    """Mask R-CNN (or Cascade with det.cascade) on a ViT with the simple feature pyramid."""
    backbone = SimpleFeaturePyramid(build_trunk(vit, det, img_size), vit.embed_dim, det.head_channels,
                                    stride=vit.patch_size)
    return build_rcnn(backbone, det.num_classes, img_size, det.anchor_sizes, det.fc_dim, cascade=det.cascade,
                      detections_per_img=det.detections_per_img, rois_per_image=det.rois_per_image,
                      rpn_post_nms=det.rpn_post_nms)


def meta_detector(vit: ViTOptions, det: DetectorOptions, img_size: int = 1024) -> MaskRCNN:
    """The detector on the meta device (no memory, no init cost): for parameter counts and FLOPs."""
    with torch.device("meta"):
        return build_detector(vit, det, img_size)
