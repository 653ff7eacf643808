"""A text Transformer for language-image models (FLIP, CLIP): token and learned position embeddings, the
core ViT's pre-norm blocks, a final LayerNorm, a pooled readout and an optional bias-free projection.

FLIP's text tower is bidirectional, with no padding mask, read out at position 0 (its JAX code); CLIP's is
causal and read out at the end-of-text token (the largest id of each row, open_clip's "argmax"). Both are
switches here, as is a key-padding mask (a documented deviation from FLIP's code, off by default).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import trunc_normal_

from vis.core.models.vit import Attention, Block, LayerNorm, init_linear_and_norm

TextPool = Literal["first", "eot", "mean"]


def attention_with_mask(attn: Attention, x: torch.Tensor, mask: torch.Tensor | None, causal: bool) -> torch.Tensor:
    """The core Attention's computation with a boolean mask [N, 1, L, L] (True = may attend) or a causal
    mask; the weights (`qkv`, `proj`) are the module's own."""
    n, length, dim = x.shape
    q, k, v = attn.qkv(x).reshape(n, length, 3, attn.num_heads, dim // attn.num_heads).permute(2, 0, 3, 1, 4)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and mask is None)
    return attn.proj(out.transpose(1, 2).reshape(n, length, dim))


class TextBlock(Block):
    """The core pre-norm Block (same parameter names) whose attention may be causal or masked."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        if mask is None and not causal:
            return super().forward(x)
        x = x + self.drop_path1(self.ls1(attention_with_mask(self.attn, self.norm1(x), mask, causal)))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


class TextTransformer(nn.Module):
    """tokens [N, L] (0 = padding) -> features [N, embed_dim] (or [N, width] without a projection).

    Keys: token_embed.weight, pos_embed [1, L, W], blocks.i.* (as the ViT's), norm, proj.weight."""

    def __init__(self, vocab_size: int, context_length: int = 32, width: int = 512, depth: int = 12,
                 num_heads: int = 8, embed_dim: int | None = 512, mlp_ratio: float = 4.0, causal: bool = False,
                 pool: TextPool = "first", pad_mask: bool = False, pad_id: int = 0, ln_eps: float = 1e-6):
        super().__init__()
        self.vocab_size, self.context_length, self.width = vocab_size, context_length, width
        self.causal, self.pool, self.pad_mask, self.pad_id = causal, pool, pad_mask, pad_id
        self.token_embed = nn.Embedding(vocab_size, width)
        self.pos_embed = nn.Parameter(torch.zeros(1, context_length, width))
        self.blocks = nn.ModuleList(TextBlock(width, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim, bias=False) if embed_dim else nn.Identity()
        set_layernorm_eps(self, ln_eps)
        self.apply(init_linear_and_norm)
        nn.init.normal_(self.token_embed.weight, std=0.02)
        trunc_normal_(self.pos_embed, std=0.01)

    def no_weight_decay(self) -> set[str]:
        return {"pos_embed"}

    def forward_features(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token features after the last block and the final norm: [N, L, W]."""
        x = self.token_embed(tokens) + self.pos_embed[:, : tokens.shape[1]]
        mask = None
        if self.pad_mask:  # keys that are padding are ignored (a row of padding still sees itself)
            keep = tokens != self.pad_id
            keep = keep[:, None, None, :] | torch.eye(tokens.shape[1], dtype=torch.bool, device=tokens.device)
            if self.causal:
                keep = keep & torch.ones_like(keep[0, 0]).tril()
            mask = keep
        for blk in self.blocks:
            x = blk(x, mask, self.causal)
        return self.norm(x)

    def readout(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Pool [N, L, W] -> [N, W]: position 0 ("first"), the end-of-text token, i.e. the largest id of each
        row ("eot", CLIP's BPE), or the mean over non-padding tokens ("mean")."""
        if self.pool == "first":
            return x[:, 0]
        if self.pool == "eot":
            return x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
        keep = (tokens != self.pad_id).unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(1) / keep.sum(1).clamp(min=1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.proj(self.readout(self.forward_features(tokens), tokens))


def set_layernorm_eps(model: nn.Module, eps: float) -> nn.Module:
    """Set the epsilon of every LayerNorm in `model` (the core blocks use 1e-6; open_clip's towers 1e-5)."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.eps = eps
    return model
