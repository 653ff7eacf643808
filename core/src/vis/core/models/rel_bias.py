"""BEiT-style relative position bias: one learned scalar per head for each relative offset (dh, dw) inside an
h x w token map, a table of (2h - 1)(2w - 1) rows indexed (dh + h - 1)(2w - 1) + (dw + w - 1) (BEiT's layout
without its three cls rows). BenchDet (Li et al., 2021) shares one table across all window blocks and one
across all global blocks; a table is resized (bicubic, over the offset grid) when the map size changes."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def relative_position_index(h: int, w: int, device: torch.device | None = None) -> torch.Tensor:
    """[h*w, h*w] row of the table for each (query, key) pair of a row-major h x w map."""
    coords = torch.stack(torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device),
                                        indexing="ij")).flatten(1)
    rel = coords[:, :, None] - coords[:, None, :]
    return (rel[0] + h - 1) * (2 * w - 1) + (rel[1] + w - 1)


def resize_rel_bias_table(table: torch.Tensor, old: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """[(2h-1)(2w-1), heads] table of an `old` (h, w) map -> the table of a `new` map: the offset grid
    (2h-1) x (2w-1) is interpolated bicubically (align_corners=True keeps the zero offset at the centre)."""
    if tuple(old) == tuple(new):
        return table
    heads = table.shape[1]
    grid = table.T.reshape(1, heads, 2 * old[0] - 1, 2 * old[1] - 1).float()
    grid = F.interpolate(grid, size=(2 * new[0] - 1, 2 * new[1] - 1), mode="bicubic", align_corners=True)
    return grid.reshape(heads, -1).T.to(table.dtype)


class SharedRelPosBias(nn.Module):
    """One bias table for every block that uses it; forward returns the additive attention bias
    [heads, h*w, h*w] for the map size it was built for. Zero-initialised (BenchDet: every initialisation but
    BEiT's starts the tables at zero)."""

    def __init__(self, size: tuple[int, int], num_heads: int):
        super().__init__()
        self.size = tuple(size)
        h, w = self.size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * h - 1) * (2 * w - 1), num_heads))
        # derived from the size, so not saved (BEiT's checkpoints store it; the converters drop it)
        self.register_buffer("relative_position_index", relative_position_index(h, w), persistent=False)

    def forward(self) -> torch.Tensor:
        n = self.size[0] * self.size[1]
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        return bias.view(n, n, -1).permute(2, 0, 1)
