"""Configuration of MAE pre-training (a vis-core TrainConfig plus the model and masking options)."""

from __future__ import annotations

from dataclasses import dataclass

from vis.core.config import TrainConfig, _check


@dataclass
class PretrainConfig(TrainConfig):
    """mae-pretrain options; every field is a --kebab-case flag."""

    input_size: int = 224
    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    decoder_embed_dim: int = 512
    decoder_depth: int = 8
    decoder_num_heads: int = 16
    mask_ratio: float = 0.75
    norm_pix_loss: bool = True
    """Regress per-patch normalised pixels (unbiased variance, eps 1e-6)."""
    crop_min_scale: float = 0.2
    """RandomResizedCrop scale range is (crop_min_scale, 1)."""
    knn_every: int = 0
    """Run the kNN monitor every this many epochs (0: only at the end)."""
    knn_batch_size: int = 256
    num_figures: int = 8
    """Samples in figures/reconstructions.png."""

    def validate(self) -> None:
        super().validate()
        _check(0 < self.mask_ratio < 1, "mask_ratio", "must be in (0, 1)", self.mask_ratio)
        _check(self.input_size % self.patch_size == 0, "input_size", f"must be a multiple of --patch-size "
               f"{self.patch_size}", self.input_size)
        _check(self.embed_dim % self.num_heads == 0, "embed_dim", f"must be divisible by --num-heads "
               f"{self.num_heads}", self.embed_dim)
        _check(self.embed_dim % 4 == 0, "embed_dim", "must be divisible by 4 (2-D sin-cos)", self.embed_dim)
        _check(self.decoder_embed_dim % 4 == 0 and self.decoder_embed_dim % self.decoder_num_heads == 0,
               "decoder_embed_dim", "must be divisible by 4 and by --decoder-num-heads", self.decoder_embed_dim)
        _check(0 < self.crop_min_scale <= 1, "crop_min_scale", "must be in (0, 1]", self.crop_min_scale)
        _check(self.knn_every >= 0, "knn_every", "must be >= 0", self.knn_every)
