"""Options of the maest-* commands: the clip, the model and each stage's recipe fields (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

import tyro

from vis.core.config import DecoderOptions, RunConfig, TrainConfig, ViTOptions, check
from vis.core.eval.config import FinetuneConfig as ImageFinetuneConfig


@dataclass
class ClipOptions:
    """Which frames make a clip, and how many clips one decoded video gives (repeated sampling)."""

    num_frames: int = 16
    sampling_rate: int = 4
    """Frame stride at --target-fps (16 x 4: a clip spans 64 frames of a 30 fps video, about 2.1 s)."""
    target_fps: float = 30.0
    t_patch_size: int = 2
    """Frames per space-time patch."""
    repeat_aug: int = 4
    """Clips drawn from each decoded video per step (R); effective epochs = epochs x R."""
    video_backend: Literal["pyav", "torchcodec"] = "pyav"

    def validate(self) -> None:
        for name in ("num_frames", "sampling_rate", "t_patch_size", "repeat_aug"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(self.target_fps > 0, "target_fps", "must be > 0", self.target_fps)
        check(self.num_frames % self.t_patch_size == 0, "num_frames",
              f"must be a multiple of --t-patch-size {self.t_patch_size}", self.num_frames)


def _video_data(data: str) -> None:
    from vis.core.data.specs import parse_data_spec

    check(parse_data_spec(data).is_video, "data", "must be a video dataset (moving-shapes[:PATH], "
          "kinetics:PATH, videofolder:PATH)", data)


@dataclass
class PretrainConfig(TrainConfig):
    """maest-pretrain options; every field is a --kebab-case flag."""

    data: str = "moving-shapes"
    """Video dataset: moving-shapes[:PATH] (built-in MP4s) | kinetics:PATH (train.csv, `<path> <label>`) |
    videofolder:PATH."""
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    clip: Annotated[ClipOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ClipOptions)
    decoder: Annotated[DecoderOptions, tyro.conf.OmitArgPrefixes] = field(
        default_factory=lambda: DecoderOptions(512, 4, 16))
    input_size: int = 224
    crop_min_scale: float = 0.5
    """RandomResizedCrop area range (crop_min_scale, 1), aspect (3/4, 4/3)."""
    mask_ratio: float = 0.9
    pred_t_dim: int = 8
    """Target frames (linspace over the clip, truncated): each token predicts one time slice of them."""
    norm_pix_loss: bool = True

    def validate(self) -> None:
        super().validate()
        _video_data(self.data)
        self.vit.validate(self.input_size)
        self.clip.validate()
        self.decoder.validate()
        check(0 < self.mask_ratio < 1, "mask_ratio", "must be in (0, 1)", self.mask_ratio)
        check(0 < self.crop_min_scale <= 1, "crop_min_scale", "must be in (0, 1]", self.crop_min_scale)
        check((self.clip.t_patch_size * self.pred_t_dim) % self.clip.num_frames == 0, "pred_t_dim",
              f"x --t-patch-size must be a multiple of --num-frames {self.clip.num_frames}", self.pred_t_dim)


@dataclass
class FinetuneConfig(ImageFinetuneConfig):
    """maest-finetune options (the DeiT recipe on clips); every field is a --kebab-case flag. The architecture
    of a --finetune file is read from its weights."""

    data: str = "moving-shapes"
    clip: Annotated[ClipOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=lambda: ClipOptions(repeat_aug=2))
    head_drop: float = 0.3
    """Dropout before the classification head."""
    aa: str | None = "rand-m7-mstd0.5-inc1"
    hflip: float = 0.5
    """Horizontal-flip probability (0 for classes that a mirror changes)."""
    shuffle_frames: bool = False
    """Control run: frames of every clip in random order (temporal order destroyed)."""

    def validate(self) -> None:
        super().validate()
        _video_data(self.data)
        self.clip.validate()
        check(0 <= self.head_drop < 1, "head_drop", "must be in [0, 1)", self.head_drop)


@dataclass
class TestConfig(RunConfig):
    """maest-test options: multi-view testing of a fine-tuned classifier (temporal x spatial views per video,
    softmax averaged)."""

    data: str = "moving-shapes"
    checkpoint: str | None = None
    """Fine-tuned weights: a vis maest-finetune checkpoint or a released MAE-ST / PySlowFast classifier."""
    split: str = "test"
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    clip: Annotated[ClipOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ClipOptions)
    input_size: int = 224
    temporal_views: int = 7
    spatial_views: int = 3
    batch_size: int = 4
    """Videos per forward pass (each with temporal_views x spatial_views clips)."""
    shuffle_frames: bool = False

    def validate(self) -> None:
        super().validate()
        _video_data(self.data)
        from pathlib import Path

        check(self.checkpoint is not None and Path(self.checkpoint).is_file(), "checkpoint", "is not a file",
              self.checkpoint)
        self.clip.validate()
        check(self.temporal_views >= 1, "temporal_views", "must be >= 1", self.temporal_views)
        check(self.spatial_views in (1, 3), "spatial_views", "must be 1 (centre) or 3", self.spatial_views)
        check(self.batch_size >= 1, "batch_size", "must be >= 1", self.batch_size)


@dataclass
class ValidateConfig(RunConfig):
    """maest-validate options: read every video of a dataset once and write the readable ones."""

    data: str = "moving-shapes"
    output_dir: str = "output/maest-validate"
    splits: tuple[str, ...] = ("train", "val", "test")
    """Splits to scan (those the dataset lacks are left out)."""

    def validate(self) -> None:
        super().validate()
        _video_data(self.data)
