"""Options every plain-ViT detector command shares (ViTDet, BenchDet): the trunk's window layout, the Mask
R-CNN heads, detection data, large-scale jitter and the evaluation cadence. Plain data: no torch import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import tyro

from vis.core.config import RunConfig, TrainConfig, ViTOptions, check


@dataclass
class RCNNOptions:
    """The trunk's attention layout and the Mask R-CNN heads (a method's detector options extend these)."""

    window_size: int = 14
    """Window of the non-global blocks (14 = the 224 / 16 pre-training grid; 0 makes every block global)."""
    global_blocks: list[int] | None = None
    """Blocks with global attention (default: the last of each of 4 equal groups, B {2, 5, 8, 11})."""
    pretrain_img_size: int = 224
    """Grid of the stored absolute position table (resized to the detection grid on every forward)."""
    drop_path: float = 0.1
    checkpoint_blocks: bool = False
    """Recompute each block's activations in the backward pass (saves memory at 1024 px)."""
    head_channels: int = 256
    fc_dim: int = 1024
    anchor_sizes: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])
    num_classes: int = 80
    detections_per_img: int = 100
    rois_per_image: int = 512
    """RoIs sampled per training image for the box head (25% positives)."""
    rpn_post_nms: int = 1000
    """Proposals kept per image after the RPN's NMS (training and test)."""

    def validate(self, vit: ViTOptions) -> None:
        check(self.window_size >= 0, "window_size", "must be >= 0", self.window_size)
        for b in self.global_blocks or []:
            check(0 <= b < vit.depth, "global_blocks", f"must be block indices below --depth {vit.depth}", b)
        check(len(self.anchor_sizes) == 5, "anchor_sizes", "needs one size per level p2..p6 (5)", self.anchor_sizes)
        check(self.num_classes >= 1, "num_classes", "must be >= 1", self.num_classes)
        check(self.pretrain_img_size % vit.patch_size == 0, "pretrain_img_size",
              f"must be a multiple of --patch-size {vit.patch_size}", self.pretrain_img_size)
        check(self.rois_per_image >= 1, "rois_per_image", "must be >= 1", self.rois_per_image)
        check(self.rpn_post_nms >= 1, "rpn_post_nms", "must be >= 1", self.rpn_post_nms)
        check(0 <= self.drop_path < 1, "drop_path", "must be in [0, 1)", self.drop_path)


def validate_detection_data(spec: str) -> None:
    from vis.core.data.coco_spec import parse_detection_spec

    parse_detection_spec(spec)


@dataclass
class DetectionTrainConfig(TrainConfig):
    """Training options of a detector command (a method adds its `det` options and initialisation)."""

    data: str = "shapes"
    """Detection data: shapes (synthetic COCO-format shapes, generated once) | coco:ROOT (annotations/
    instances_{train2017,val2017}.json and image folders train2017/, val2017/)."""
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    img_size: int = 1024
    """Large-scale-jitter output and square pad size (test: long side resized to it, then padded)."""
    scale_range: tuple[float, float] = (0.1, 2.0)
    """Large-scale jitter resize factors."""
    layer_decay: float = 0.7
    vit_norm_no_decay: bool = True
    """No weight decay on pos_embed and the ViT's LayerNorms (ViT-B/L presets); off = decay all (ViT-H)."""
    eval_every: int = 1
    """Evaluate on the validation split every this many epochs (and at the end)."""
    eval_batch_size: int = 1

    def validate(self) -> None:
        super().validate()
        self.vit.validate()
        self.det.validate(self.vit)
        check(self.img_size % self.vit.patch_size == 0, "img_size", f"must be a multiple of --patch-size "
              f"{self.vit.patch_size}", self.img_size)
        check(0 < self.scale_range[0] <= self.scale_range[1], "scale_range", "must be 0 < min <= max",
              self.scale_range)
        check(0 < self.layer_decay <= 1, "layer_decay", "must be in (0, 1]", self.layer_decay)
        check(self.eval_every >= 1, "eval_every", "must be >= 1", self.eval_every)

    def validate_data(self) -> None:
        validate_detection_data(self.data)


@dataclass
class DetectionEvalConfig(RunConfig):
    """Evaluation options of a detector command: COCO box / mask AP of a checkpoint on a split."""

    data: str = "shapes"
    checkpoint: str | None = None
    """A training checkpoint of this command (architecture from its config) or a detector state dict."""
    split: str = "val"
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    img_size: int = 1024
    batch_size: int = 1

    def validate(self) -> None:
        super().validate()
        check(self.checkpoint is not None, "checkpoint", "is required", self.checkpoint)
        check(Path(self.checkpoint).is_file(), "checkpoint", "names a file that does not exist", self.checkpoint)
        check(self.batch_size >= 1, "batch_size", "must be >= 1", self.batch_size)
        self.vit.validate(self.img_size)
        self.det.validate(self.vit)

    def validate_data(self) -> None:
        validate_detection_data(self.data)
