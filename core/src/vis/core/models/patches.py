"""Patchify / unpatchify for (t, p, p) patches and the masked reconstruction loss."""

from __future__ import annotations

import torch


def patchify(x: torch.Tensor, p: int, t: int = 1) -> torch.Tensor:
    """[N, C, H, W] (or [N, C, T, H, W]) -> [N, L, t*p*p*C]; tokens row-major (time, row, col), values
    ordered (frame, pixel row, pixel col, channel) with channel fastest, as in MAE and MAE-ST."""
    if x.ndim == 4:
        x = x.unsqueeze(2)
    n, c, T, H, W = x.shape
    if H % p or W % p or T % t:
        raise ValueError(f"input {tuple(x.shape)} is not divisible into ({t}, {p}, {p}) patches")
    g, h, w = T // t, H // p, W // p
    x = x.reshape(n, c, g, t, h, p, w, p)
    x = torch.einsum("ncgthpwq->nghwtpqc", x)
    return x.reshape(n, g * h * w, t * p * p * c)


def unpatchify(x: torch.Tensor, p: int, grid: tuple[int, int, int], t: int = 1, channels: int = 3) -> torch.Tensor:
    """Inverse of patchify for a (frames/t, H/p, W/p) grid; returns [N, C, H, W] when grid[0]*t == 1."""
    n = x.shape[0]
    g, h, w = grid
    x = x.reshape(n, g, h, w, t, p, p, channels)
    x = torch.einsum("nghwtpqc->ncgthpwq", x)
    x = x.reshape(n, channels, g * t, h * p, w * p)
    return x[:, :, 0] if g * t == 1 else x


def normalize_patches(target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per-patch normalisation over all values of a patch (channels pooled), unbiased variance."""
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)
    return (target - mean) / (var + eps) ** 0.5


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, norm_pix: bool) -> torch.Tensor:
    """Mean squared error per patch, averaged over removed patches (mask == 1) of the whole batch."""
    if norm_pix:
        target = normalize_patches(target)
    loss = ((pred - target) ** 2).mean(dim=-1)
    return (loss * mask).sum() / mask.sum()
