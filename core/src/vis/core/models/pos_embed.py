"""Position embeddings: fixed 2-D sin-cos tables (MAE and MoCo v3 layouts) and resizing."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

SinCosOrder = Literal["mae", "mocov3"]


def sincos_1d(dim: int, pos: np.ndarray) -> np.ndarray:
    """[sin(pos * w_k), cos(pos * w_k)] with w_k = 1 / 10000^(k / (dim/2)); returns [len(pos), dim] float64."""
    if dim % 2:
        raise ValueError(f"sin-cos dimension must be even, got {dim}")
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    out = np.outer(pos.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def sincos_2d(
    dim: int, grid_h: int, grid_w: int, cls_token: bool = False, order: SinCosOrder = "mae"
) -> torch.Tensor:
    """Fixed 2-D sin-cos table of shape [(1 if cls) + grid_h*grid_w, dim], tokens in row-major order.

    order="mae": the first half of the channels encodes the column index, the second the row index
    (MAE's 'xy' meshgrid). order="mocov3": the halves are swapped (row first). Computed in float64 and
    returned as float32; the cls row is zero.
    """
    if dim % 4:
        raise ValueError(f"2-D sin-cos needs a dimension divisible by 4, got {dim}")
    rows, cols = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
    first, second = (cols, rows) if order == "mae" else (rows, cols)
    table = np.concatenate([sincos_1d(dim // 2, first), sincos_1d(dim // 2, second)], axis=1)
    if cls_token:
        table = np.concatenate([np.zeros((1, dim)), table], axis=0)
    return torch.from_numpy(table).float()


def resize_pos_embed(
    pos_embed: torch.Tensor, new_grid: tuple[int, int], num_prefix_tokens: int = 1
) -> torch.Tensor:
    """Bicubic interpolation of a [1, prefix + h*w, D] table to a new (h, w) grid (square old grid)."""
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    old = int(round(grid.shape[1] ** 0.5))
    if old * old != grid.shape[1]:
        raise ValueError(f"cannot infer a square grid from {grid.shape[1]} position tokens")
    if (old, old) == tuple(new_grid):
        return pos_embed
    dim = grid.shape[-1]
    grid = grid.reshape(1, old, old, dim).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=new_grid, mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_grid[0] * new_grid[1], dim).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=1)
