"""The MAE decoder, shared by MAE (images) and MAE-ST (video): a light transformer that fills removed
tokens with a learned mask token and predicts their pixels."""

from __future__ import annotations

import torch
import torch.nn as nn
from timm.layers import trunc_normal_

from vis.core.models.masking import gather_tokens
from vis.core.models.space_time import separable_pos
from vis.core.models.vit import Block, LayerNorm


class MAEDecoder(nn.Module):
    """decoder_embed -> append mask tokens -> unshuffle -> + position table -> blocks -> norm -> pred.

    Parameter names match the official MAE and MAE-ST checkpoints (decoder_embed, mask_token,
    decoder_pos_embed or decoder_pos_embed_{spatial,temporal,class}, decoder_cls_token, decoder_blocks,
    decoder_norm, decoder_pred) when the module's attributes are flattened into the model.
    Images (MAE): `pos_table` is the fixed [1 + L, dim] table (cls row first) and the encoder's cls output is
    the decoder's prefix. Video (MAE-ST): `separable_grid` = (T', H'W') gives learned separable tables, and
    with `cls_token` the decoder drops the encoder's prefix and prepends its own `decoder_cls_token`.
    """

    def __init__(
        self, in_dim: int, dim: int, depth: int, num_heads: int, out_dim: int, pos_table: torch.Tensor | None = None,
        mlp_ratio: float = 4.0, separable_grid: tuple[int, int] | None = None, cls_token: bool = False,
    ):
        super().__init__()
        self.decoder_embed = nn.Linear(in_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.separable = separable_grid is not None
        if self.separable:
            t_grid, spatial = separable_grid
            self.decoder_pos_embed_spatial = nn.Parameter(torch.zeros(1, spatial, dim))
            self.decoder_pos_embed_temporal = nn.Parameter(torch.zeros(1, t_grid, dim))
            self.decoder_pos_embed_class = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None
        else:
            if pos_table is None:
                raise ValueError("the MAE decoder needs a fixed pos_table or a separable_grid")
            self.decoder_pos_embed = nn.Parameter(torch.zeros(1, *pos_table.shape), requires_grad=False)
            self.decoder_pos_embed.data.copy_(pos_table.unsqueeze(0))
        self.decoder_cls_token = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None
        self.decoder_blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio, qkv_bias=True) for _ in range(depth))
        self.decoder_norm = LayerNorm(dim)
        self.decoder_pred = nn.Linear(dim, out_dim)
        nn.init.normal_(self.mask_token, std=0.02)
        for p in (getattr(self, "decoder_pos_embed_spatial", None), getattr(self, "decoder_pos_embed_temporal", None),
                  getattr(self, "decoder_pos_embed_class", None), self.decoder_cls_token):
            if p is not None:
                trunc_normal_(p, std=0.02)

    def _pos(self, num_prefix: int, length: int) -> torch.Tensor:
        if self.separable:
            cls = self.decoder_pos_embed_class if num_prefix else None
            return separable_pos(self.decoder_pos_embed_spatial, self.decoder_pos_embed_temporal, cls)
        return self.decoder_pos_embed[:, -(num_prefix + length) :]

    def forward(self, x: torch.Tensor, ids_restore: torch.Tensor, num_prefix_tokens: int = 1) -> torch.Tensor:
        """x: encoder output [N, prefix + K, D_enc]; returns predictions [N, L, out_dim] in token order."""
        n, length = ids_restore.shape
        if self.decoder_cls_token is not None:  # MAE-ST: the encoder's prefix is dropped before the decoder
            x, num_prefix_tokens = x[:, num_prefix_tokens:], 1
            prefix = self.decoder_cls_token.expand(n, -1, -1)
            visible = self.decoder_embed(x)
        else:
            x = self.decoder_embed(x)
            prefix, visible = x[:, :num_prefix_tokens], x[:, num_prefix_tokens:]
        mask_tokens = self.mask_token.expand(n, length - visible.shape[1], -1)
        tokens = gather_tokens(torch.cat([visible, mask_tokens], dim=1), ids_restore)
        x = torch.cat([prefix, tokens], dim=1)
        x = x + self._pos(num_prefix_tokens, length)
        for blk in self.decoder_blocks:
            x = blk(x)
        out = self.decoder_pred(self.decoder_norm(x))
        # a tensor of its own, not a view: FSDP2 warns when a sharded module returns a view
        return out[:, num_prefix_tokens:].contiguous() if num_prefix_tokens else out
