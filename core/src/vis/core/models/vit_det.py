"""A plain ViT for dense prediction (ViTDet): NHWC token map, window attention with a few global blocks,
decomposed relative positions, and an absolute position table kept at the pre-training grid and resized on
every forward, so MAE / timm checkpoints load 1:1 (patch_embed.proj, pos_embed with its cls slot, blocks.i.*).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import trunc_normal_
from torch.utils.checkpoint import checkpoint

from vis.core.models.rel_bias import SharedRelPosBias
from vis.core.models.window_attn import WindowBlock


def global_block_indices(depth: int, groups: int = 4) -> tuple[int, ...]:
    """The last block of each of `groups` equal groups: ViT-B {2, 5, 8, 11}, L {5, 11, 17, 23}, H {7, 15, 23, 31}."""
    return tuple((g + 1) * depth // groups - 1 for g in range(groups))


def resize_abs_pos(pos_embed: torch.Tensor, has_cls: bool, size: tuple[int, int]) -> torch.Tensor:
    """[1, (cls +) G*G, C] table -> [1, H, W, C]: cls slot dropped, bicubic (align_corners=False) to `size`."""
    table = pos_embed[:, 1:] if has_cls else pos_embed
    grid = math.isqrt(table.shape[1])
    if grid * grid != table.shape[1]:
        raise ValueError(f"position table of {table.shape[1]} slots is not a square grid")
    table = table.reshape(1, grid, grid, -1)
    if (grid, grid) != tuple(size):
        table = F.interpolate(table.permute(0, 3, 1, 2), size=size, mode="bicubic", align_corners=False)
        table = table.permute(0, 2, 3, 1)
    return table


class DetViT(nn.Module):
    """ViT trunk for detection; forward returns the last map [B, C, H/p, W/p] (stride p).

    Blocks in `global_blocks` attend globally, the others within `window_size` windows (0: all global).
    Relative positions: decomposed tables per block (`use_rel_pos`, ViTDet) and / or BEiT-style bias tables
    (`shared_rel_bias`, BenchDet): one `rel_bias_window` shared by all window blocks, one `rel_bias_global`
    shared by all global blocks. `init_values` adds layer scale. `checkpoint_blocks` recomputes each block's
    activations in the backward pass (memory at 1024 px)."""

    def __init__(self, img_size: int = 1024, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768,
                 depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path_rate: float = 0.0, window_size: int = 14, global_blocks: Sequence[int] | None = None,
                 use_rel_pos: bool = True, pretrain_img_size: int = 224, pretrain_use_cls_token: bool = True,
                 checkpoint_blocks: bool = False, shared_rel_bias: bool = False, init_values: float | None = None):
        super().__init__()
        self.patch_size, self.embed_dim, self.checkpoint_blocks = patch_size, embed_dim, checkpoint_blocks
        self.global_blocks = tuple(global_block_indices(depth) if global_blocks is None else global_blocks)
        self.has_cls = pretrain_use_cls_token
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        slots = (pretrain_img_size // patch_size) ** 2 + int(pretrain_use_cls_token)
        self.pos_embed = nn.Parameter(torch.zeros(1, slots, embed_dim))
        grid = (img_size // patch_size, img_size // patch_size)
        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            WindowBlock(embed_dim, num_heads, mlp_ratio, qkv_bias, dpr[i],
                        0 if i in self.global_blocks else window_size, use_rel_pos, grid, init_values)
            for i in range(depth)
        )
        sizes = {b.window_size for b in self.blocks}
        self.rel_bias_window = SharedRelPosBias((window_size, window_size), num_heads) \
            if shared_rel_bias and window_size in sizes and window_size else None
        self.rel_bias_global = SharedRelPosBias(grid, num_heads) if shared_rel_bias and 0 in sizes else None
        trunc_normal_(self.pos_embed, std=0.02)
        self.apply(_init)

    @property
    def num_layers(self) -> int:
        return len(self.blocks)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed.proj(x).permute(0, 2, 3, 1)
        return x + resize_abs_pos(self.pos_embed, self.has_cls, x.shape[1:3])

    def _run(self, blk: nn.Module, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.checkpoint_blocks and self.training and torch.is_grad_enabled():
            return checkpoint(blk, x, bias, use_reentrant=False)
        return blk(x, bias)

    def forward_intermediates(self, x: torch.Tensor, indices: Sequence[int]) -> list[torch.Tensor]:
        """Outputs [B, C, H, W] of the blocks in `indices` (negative counts from the end)."""
        wanted = {i % len(self.blocks) for i in indices}
        x, out = self.embed(x), []
        if self.rel_bias_global is not None and tuple(x.shape[1:3]) != self.rel_bias_global.size:
            raise ValueError(f"a {tuple(x.shape[1:3])} map, but the global bias table is for "
                             f"{self.rel_bias_global.size}: build the trunk for this image size")
        # each shared table is expanded once per forward, not once per block
        biases = {0: self.rel_bias_global() if self.rel_bias_global is not None else None,
                  1: self.rel_bias_window() if self.rel_bias_window is not None else None}
        for i, blk in enumerate(self.blocks[: max(wanted) + 1]):
            x = self._run(blk, x, biases[int(blk.window_size > 0)])
            if i in wanted:
                out.append(x.permute(0, 3, 1, 2))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_intermediates(x, [-1])[0]


def _init(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
