"""The MAE decoder, shared by MAE (images) and MAE-ST (video): a light transformer that fills removed
tokens with a learned mask token and predicts their pixels."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.models.masking import gather_tokens
from vis.core.models.vit import Block, LayerNorm


class MAEDecoder(nn.Module):
    """decoder_embed -> append mask tokens -> unshuffle -> + fixed position table -> blocks -> norm -> pred.

    Parameter names match the official MAE checkpoints (decoder_embed, mask_token, decoder_pos_embed,
    decoder_blocks, decoder_norm, decoder_pred) when the module's attributes are flattened into the model.
    `pos_table` is the [1 + L, dim] table (cls row first) the decoder adds after unshuffling.
    """

    def __init__(
        self, in_dim: int, dim: int, depth: int, num_heads: int, out_dim: int, pos_table: torch.Tensor,
        mlp_ratio: float = 4.0,
    ):
        super().__init__()
        self.decoder_embed = nn.Linear(in_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, *pos_table.shape), requires_grad=False)
        self.decoder_pos_embed.data.copy_(pos_table.unsqueeze(0))
        self.decoder_blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio, qkv_bias=True) for _ in range(depth))
        self.decoder_norm = LayerNorm(dim)
        self.decoder_pred = nn.Linear(dim, out_dim)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, x: torch.Tensor, ids_restore: torch.Tensor, num_prefix_tokens: int = 1) -> torch.Tensor:
        """x: encoder output [N, prefix + K, D_enc]; returns predictions [N, L, out_dim] in token order."""
        x = self.decoder_embed(x)
        prefix, visible = x[:, :num_prefix_tokens], x[:, num_prefix_tokens:]
        n, length = ids_restore.shape
        mask_tokens = self.mask_token.expand(n, length - visible.shape[1], -1)
        tokens = gather_tokens(torch.cat([visible, mask_tokens], dim=1), ids_restore)
        x = torch.cat([prefix, tokens], dim=1)
        x = x + self.decoder_pos_embed[:, -(num_prefix_tokens + length) :]
        for blk in self.decoder_blocks:
            x = blk(x)
        out = self.decoder_pred(self.decoder_norm(x))
        # a tensor of its own, not a view: FSDP2 warns when a sharded module returns a view
        return out[:, num_prefix_tokens:].contiguous() if num_prefix_tokens else out
