"""Window attention with decomposed relative position bias (MViTv2 / ViTDet), on NHWC token maps.

Windows are non-overlapping and unshifted; a map that is not a whole number of windows is zero-padded at the
bottom / right and the padded tokens are attended to without a mask (as in ViTDet), then cropped away.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, LayerScale, Mlp

LayerNorm = nn.LayerNorm


def window_partition(x: torch.Tensor, window: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """[B, H, W, C] -> ([B * nW, window, window, C], padded (Hp, Wp)), zero-padding bottom / right."""
    b, h, w, c = x.shape
    pad_h, pad_w = (window - h % window) % window, (window - w % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp, wp)


def window_unpartition(windows: torch.Tensor, window: int, padded: tuple[int, int], size: tuple[int, int]):
    """Inverse of `window_partition`: [B * nW, window, window, C] -> [B, H, W, C] with the padding cropped."""
    hp, wp = padded
    b = windows.shape[0] // (hp * wp // window // window)
    x = windows.view(b, hp // window, wp // window, window, window, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, hp, wp, -1)[:, : size[0], : size[1]].contiguous()


def rel_pos_table(q_size: int, k_size: int, table: torch.Tensor) -> torch.Tensor:
    """Relative-position embeddings [q_size, k_size, C] for one axis; a table whose length is not
    2 * max(q, k) - 1 is linearly interpolated along its length first."""
    length = 2 * max(q_size, k_size) - 1
    if table.shape[0] != length:
        table = F.interpolate(table.T.unsqueeze(0), size=length, mode="linear").squeeze(0).T
    q = torch.arange(q_size, device=table.device)[:, None] * max(k_size / q_size, 1.0)
    k = torch.arange(k_size, device=table.device)[None, :] * max(q_size / k_size, 1.0)
    rel = q - k + (k_size - 1) * max(q_size / k_size, 1.0)
    return table[rel.long()]


def decomposed_rel_pos(q: torch.Tensor, table_h: torch.Tensor, table_w: torch.Tensor, q_size: tuple[int, int],
                       k_size: tuple[int, int]) -> torch.Tensor:
    """Additive attention bias [B, qh*qw, kh*kw] from unscaled queries q [B, qh*qw, C] (MViTv2, eq. 4)."""
    (qh, qw), (kh, kw) = q_size, k_size
    rh, rw = rel_pos_table(qh, kh, table_h), rel_pos_table(qw, kw, table_w)
    r_q = q.reshape(q.shape[0], qh, qw, -1)
    bias_h = torch.einsum("bhwc,hkc->bhwk", r_q, rh)
    bias_w = torch.einsum("bhwc,wkc->bhwk", r_q, rw)
    return (bias_h[:, :, :, :, None] + bias_w[:, :, :, None, :]).reshape(q.shape[0], qh * qw, kh * kw)


class RelPosAttention(nn.Module):
    """Multi-head attention over a [B, H, W, C] map (timm names qkv / proj) with optional decomposed relative
    position tables `rel_pos_h` [2H-1, head_dim], `rel_pos_w` [2W-1, head_dim], zero-initialised."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, use_rel_pos: bool = False,
                 input_size: tuple[int, int] | None = None):
        super().__init__()
        self.num_heads, self.use_rel_pos = num_heads, use_rel_pos
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        if use_rel_pos:
            if input_size is None:
                raise ValueError("relative positions need the input size")
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * input_size[0] - 1, dim // num_heads))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * input_size[1] - 1, dim // num_heads))

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """`bias`: an extra additive bias [heads, h*w, h*w] (a shared BEiT-style table)."""
        b, h, w, c = x.shape
        q, k, v = self.qkv(x).reshape(b, h * w, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        if self.use_rel_pos:
            rel = decomposed_rel_pos(q.reshape(b * self.num_heads, h * w, -1), self.rel_pos_h, self.rel_pos_w,
                                     (h, w), (h, w)).view(b, self.num_heads, h * w, h * w)
            bias = rel if bias is None else rel + bias
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=None if bias is None else bias.to(q.dtype))
        out = out.view(b, self.num_heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, c)
        return self.proj(out)


class WindowBlock(nn.Module):
    """Pre-norm block on [B, H, W, C]: x + DropPath(Attn(LN(x))) with attention inside windows of
    `window_size` (0: global), then x + DropPath(MLP(LN(x))); with `init_values`, layer scale (timm's `ls1` /
    `ls2`, BEiT's gamma_1 / gamma_2) on both branches."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path: float = 0.0, window_size: int = 0, use_rel_pos: bool = False,
                 input_size: tuple[int, int] | None = None, init_values: float | None = None):
        super().__init__()
        self.window_size = window_size
        self.norm1 = LayerNorm(dim, eps=1e-6)
        attn_size = (window_size, window_size) if window_size else input_size
        self.attn = RelPosAttention(dim, num_heads, qkv_bias, use_rel_pos, attn_size)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """`bias`: a shared relative position bias [heads, N, N] over one window (or the whole map)."""
        shortcut, x = x, self.norm1(x)
        if self.window_size:
            size = x.shape[1:3]
            x, padded = window_partition(x, self.window_size)
            x = window_unpartition(self.attn(x, bias), self.window_size, padded, size)
        else:
            x = self.attn(x, bias)
        x = shortcut + self.drop_path(self.ls1(x))
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))
