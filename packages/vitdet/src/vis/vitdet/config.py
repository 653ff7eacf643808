"""Options of vitdet-train and vitdet-eval (plain data: no torch import, so --help and bad input are fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import tyro

from vis.core.config import RunConfig, TrainConfig, ViTOptions, check


@dataclass
class DetectorOptions:
    """The detector: ViT trunk options, simple feature pyramid and Mask R-CNN / Cascade heads."""

    window_size: int = 14
    """Window of the non-global blocks (14 = the 224 / 16 pre-training grid; 0 makes every block global)."""
    global_blocks: list[int] | None = None
    """Blocks with global attention (default: the last of each of 4 equal groups, B {2, 5, 8, 11})."""
    use_rel_pos: bool = True
    pretrain_img_size: int = 224
    """Grid of the stored absolute position table (resized to the detection grid on every forward)."""
    drop_path: float = 0.1
    checkpoint_blocks: bool = False
    """Recompute each block's activations in the backward pass (saves memory at 1024 px)."""
    cascade: bool = False
    """Cascade Mask R-CNN (3 stages, IoU 0.5 / 0.6 / 0.7) instead of Mask R-CNN."""
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
class TrainDetConfig(TrainConfig):
    """vitdet-train options; every field is a --kebab-case flag."""

    data: str = "shapes"
    """Detection data: shapes (synthetic COCO-format shapes, generated once) | coco:ROOT (annotations/
    instances_{train2017,val2017}.json and image folders train2017/, val2017/)."""
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    det: Annotated[DetectorOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DetectorOptions)
    img_size: int = 1024
    """Large-scale-jitter output and square pad size (test: long side resized to it, then padded)."""
    scale_range: tuple[float, float] = (0.1, 2.0)
    """Large-scale jitter resize factors."""
    init: str | None = None
    """MAE checkpoint for the trunk: vis mae-pretrain, a vis backbone file, or an official
    mae_pretrain_vit_*.pth (strict keys; patch kernel and position table resampled)."""
    layer_decay: float = 0.7
    vit_norm_no_decay: bool = True
    """No weight decay on pos_embed and the ViT's LayerNorms (ViT-B/L presets); off = decay all (ViT-H)."""
    lr_steps: tuple[float, float] = (0.889, 0.963)
    """Fractions of training at which the lr drops by 10x."""
    warmup_factor: float = 0.001
    """The linear warm-up starts at lr x this."""
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
        check(all(0 < s < 1 for s in self.lr_steps), "lr_steps", "must be fractions in (0, 1)", self.lr_steps)
        check(self.eval_every >= 1, "eval_every", "must be >= 1", self.eval_every)
        if self.init is not None:
            from pathlib import Path

            check(Path(self.init).is_file(), "init", "names a file that does not exist", self.init)

    def validate_data(self) -> None:
        validate_detection_data(self.data)


@dataclass
class EvalDetConfig(RunConfig):
    """vitdet-eval options: COCO box / mask AP of a checkpoint on a split."""

    data: str = "shapes"
    checkpoint: str | None = None
    """A vitdet-train checkpoint (architecture from its config) or a converted detector state dict."""
    split: str = "val"
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    det: Annotated[DetectorOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DetectorOptions)
    img_size: int = 1024
    batch_size: int = 1

    def validate(self) -> None:
        super().validate()
        check(self.checkpoint is not None, "checkpoint", "is required", self.checkpoint)
        from pathlib import Path

        check(Path(self.checkpoint).is_file(), "checkpoint", "names a file that does not exist", self.checkpoint)
        check(self.batch_size >= 1, "batch_size", "must be >= 1", self.batch_size)
        self.vit.validate(self.img_size)
        self.det.validate(self.vit)

    def validate_data(self) -> None:
        validate_detection_data(self.data)
