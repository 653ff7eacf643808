"""Figures: image grids written as PNG."""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image


def save_image_grid(rows: list[torch.Tensor], path: str | Path, upscale: int = 1) -> Path:
    """rows: tensors [N, 3, H, W] in [0, 1], one per grid column (original, masked, ...); each sample is a
    grid row. Written atomically as PNG."""
    cols = torch.stack(rows, dim=1)  # [N, C, 3, H, W]
    n, c = cols.shape[:2]
    images = cols.flatten(0, 1)
    if upscale > 1:
        images = torch.nn.functional.interpolate(images, scale_factor=upscale, mode="nearest")
    grid = make_grid(images, nrow=c, padding=2, pad_value=1.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    save_image(grid, tmp)
    tmp.replace(path)
    return path
