"""Configuration of MAE pre-training (a vis-core TrainConfig plus the model and masking options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import tyro

from vis.core.config import DecoderOptions, RunConfig, SelfSupervisedConfig, ViTOptions, check


@dataclass
class PretrainConfig(SelfSupervisedConfig):
    """mae-pretrain options; every field is a --kebab-case flag."""

    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    decoder: Annotated[DecoderOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DecoderOptions)
    mask_ratio: float = 0.75
    norm_pix_loss: bool = True
    """Regress per-patch normalised pixels (unbiased variance, eps 1e-6)."""
    num_figures: int = 8
    """Samples in figures/reconstructions.png."""

    def validate(self) -> None:
        super().validate()
        self.vit.validate(self.input_size)
        self.decoder.validate()
        check(0 < self.mask_ratio < 1, "mask_ratio", "must be in (0, 1)", self.mask_ratio)


@dataclass
class VisualizeConfig(RunConfig):
    """mae-visualize options. For a vis checkpoint the architecture comes from the checkpoint's own config;
    for an official file from these flags (the vit-* recipes match the released visualize files)."""

    checkpoint: str | None = None
    """MAE weights with the decoder: a vis mae-pretrain checkpoint, or an official full / visualize file."""
    images: list[str] = field(default_factory=list)
    """Image files to reconstruct (default: --num-samples samples of --data)."""
    num_samples: int = 8
    mask_seed: int = 0
    """Seed of the random masks (same seed, same masks)."""
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    decoder: Annotated[DecoderOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DecoderOptions)
    input_size: int = 224
    mask_ratio: float = 0.75
    norm_pix_loss: bool = True
    """The model predicts per-patch normalised pixels; shown de-normalised with each target patch's stats."""

    def validate(self) -> None:
        super().validate()
        check(self.checkpoint is not None, "checkpoint", "is required", self.checkpoint)
        check(0 < self.mask_ratio < 1, "mask_ratio", "must be in (0, 1)", self.mask_ratio)
        check(self.num_samples >= 1, "num_samples", "must be >= 1", self.num_samples)
        from pathlib import Path

        for img in self.images:
            check(Path(img).is_file(), "images", "names a file that does not exist", img)
