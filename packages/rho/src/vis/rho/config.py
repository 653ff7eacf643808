"""Options of the rho-* commands (plain data, no torch): the clips, the backbone, each objective's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from vis.core.config import TrainConfig, check

Method = Literal["moco", "byol", "simclr", "swav"]
Backbone = Literal["slow-r50", "slow-tiny", "r3d_18", "r2plus1d_18"]
# per-method defaults (paper B.1, SlowFast configs): temperature, projection out / hidden, blr per 256 clips
# (paper lr at batch 512: MoCo 0.4, others 4.8), weight decay, optimizer, momentum m0
METHOD_DEFAULTS = {
    "moco": dict(temperature=0.1, dim=128, mlp_dim=2048, blr=0.2, weight_decay=1e-4, optimizer="sgd", momentum=0.994),
    "byol": dict(temperature=0.5, dim=256, mlp_dim=4096, blr=2.4, weight_decay=1e-6, optimizer="lars", momentum=0.996),
    "simclr": dict(temperature=0.1, dim=128, mlp_dim=2048, blr=2.4, weight_decay=1e-6, optimizer="lars", momentum=0.0),
    "swav": dict(temperature=0.1, dim=128, mlp_dim=2048, blr=2.4, weight_decay=1e-6, optimizer="lars", momentum=0.0),
}


@dataclass
class ClipOptions:
    """Which frames make a clip: num_frames every sampling_rate frames at target_fps (8 x 8: 64 frames)."""

    num_frames: int = 8
    sampling_rate: int = 8
    target_fps: float = 30.0
    video_backend: Literal["pyav", "torchcodec"] = "pyav"

    def validate(self) -> None:
        for name in ("num_frames", "sampling_rate"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(self.target_fps > 0, "target_fps", "must be > 0", self.target_fps)


def check_video_data(data: str) -> None:
    from vis.core.data.specs import parse_data_spec

    check(parse_data_spec(data).is_video, "data", "must be a video dataset (persistent-shapes[:PATH], "
          "moving-shapes[:PATH], kinetics:PATH, videofolder:PATH)", data)


@dataclass
class PretrainConfig(TrainConfig):
    """rho-pretrain options; every field is a --kebab-case flag. Fields left unset take the --method's
    default (paper B.1): temperature, dim, mlp-dim, blr, weight-decay, optimizer, momentum."""

    data: str = "persistent-shapes"
    """Video dataset: persistent-shapes[:PATH] (built-in MP4s) | kinetics:PATH | videofolder:PATH."""
    method: Method = "byol"
    rho: int = 2
    """Clips per video, all positives of each other (1: two crops of one clip)."""
    gap_min: float = 0.0
    """Smallest gap in seconds between consecutive clip starts (long-spanned ablation; 0: none)."""
    gap_max: float | None = None
    """Largest gap in seconds (None: global sampling over the whole video)."""
    backbone: Backbone = "slow-r50"
    clip: Annotated[ClipOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ClipOptions)
    input_size: int = 224
    crop_scale: tuple[float, float] = (0.2, 0.766)
    """Area RandomResizedCrop range (relative), aspect [3/4, 4/3]."""
    color_strength: float = 0.75
    """Colour jitter strength s: (0.8 s, 0.8 s, 0.8 s, 0.2 s); 0.75 is the configs' (0.6, 0.6, 0.6, 0.15)."""
    grayscale: float = 0.2
    """Probability of turning a clip to grayscale."""
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    """Gaussian blur sigma range in pixels of the decoded frames (p 0.5)."""
    temperature: float | None = None
    dim: int | None = None
    mlp_dim: int | None = None
    mlp_bn: bool = True
    """SimCLR: BN in the projection MLP (paper); --no-mlp-bn is the shipped config's behaviour."""
    momentum: float | None = None
    """Momentum encoder m0 (MoCo, BYOL), annealed to 1 on a half cosine."""
    queue_len: int = 65536
    prototypes: int = 1000
    sinkhorn_iters: int = 3
    sinkhorn_eps: float = 0.05
    freeze_prototypes_epochs: float = 1.0
    pairs: Literal["all", "adjacent"] = "all"
    """SimCLR / SwAV: every pair of clips (paper) or only adjacent ones (the shipped sequential code)."""
    sequential: bool = True
    """One clip's activations at a time (keys first, then forward + backward per clip)."""
    blr: float | None = None
    weight_decay: float | None = None
    optimizer: Literal["sgd", "lars"] | None = None
    knn_batch_size: int = 32

    def resolve(self) -> None:
        """Fill the unset per-method fields from METHOD_DEFAULTS."""
        for k, v in METHOD_DEFAULTS[self.method].items():
            if getattr(self, k) is None:
                setattr(self, k, v)

    def validate(self) -> None:
        self.resolve()
        super().validate()
        check_video_data(self.data)
        self.clip.validate()
        check(1 <= self.rho <= 8, "rho", "must be in 1..8", self.rho)
        check(self.input_size >= 16, "input_size", "must be >= 16", self.input_size)
        check(0 < self.crop_scale[0] <= self.crop_scale[1] <= 1, "crop_scale", "must be 0 < min <= max <= 1",
              self.crop_scale)
        check(self.gap_min >= 0 and (self.gap_max is None or self.gap_max >= self.gap_min), "gap_min",
              "must be >= 0 and <= --gap-max", (self.gap_min, self.gap_max))
        check(0 <= self.grayscale <= 1, "grayscale", "must be in [0, 1]", self.grayscale)
        check(self.temperature > 0, "temperature", "must be > 0", self.temperature)
        check(0 <= self.momentum < 1, "momentum", "must be in [0, 1)", self.momentum)
        for name in ("dim", "mlp_dim", "prototypes", "sinkhorn_iters", "knn_batch_size"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(self.sinkhorn_eps > 0, "sinkhorn_eps", "must be > 0", self.sinkhorn_eps)
        if self.method == "moco":
            views = max(self.rho, 2) * self.batch_size
            check(self.queue_len >= views, "queue_len", f"must hold one step's keys ({views} per process)",
                  self.queue_len)


@dataclass
class ClassifyConfig(TrainConfig):
    """rho-linprobe / rho-finetune options: a classifier on a (pre-trained) backbone, trained on one clip per
    video and tested on temporal x spatial views per video (softmax averaged)."""

    data: str = "persistent-shapes"
    backbone: Backbone = "slow-r50"
    finetune: str | None = None
    """Pre-trained weights: a vis rho-pretrain checkpoint or a released SlowFast contrastive file (None: random
    initialisation, the baseline)."""
    clip: Annotated[ClipOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ClipOptions)
    input_size: int = 224
    crop_scale: tuple[float, float] = (0.08, 1.0)
    """Training crop area range (relative), aspect [3/4, 4/3], with flip."""
    dropout: float = 0.0
    head_bn: bool = False
    """Linear probe: BatchNorm without affine before the linear layer (MAE's probe; scale-free features)."""
    bn_stats: Literal["frozen", "train"] = "frozen"
    """Linear probe: keep the backbone's BN statistics (frozen) or re-estimate them while training the head,
    as the shipped linear config does (train)."""
    temporal_views: int = 10
    spatial_views: int = 3
    eval_split: str = "val"
    eval_batch_size: int = 8
    eval_every: int = 1
    optimizer: Literal["sgd", "lars"] = "sgd"

    def validate(self) -> None:
        super().validate()
        check_video_data(self.data)
        self.clip.validate()
        if self.finetune is not None:
            check(Path(self.finetune).is_file(), "finetune", "is not a file", self.finetune)
        check(0 <= self.dropout < 1, "dropout", "must be in [0, 1)", self.dropout)
        check(self.temporal_views >= 1, "temporal_views", "must be >= 1", self.temporal_views)
        check(self.spatial_views in (1, 3), "spatial_views", "must be 1 (centre) or 3", self.spatial_views)
        check(0 < self.crop_scale[0] <= self.crop_scale[1] <= 1, "crop_scale", "must be 0 < min <= max <= 1",
              self.crop_scale)
