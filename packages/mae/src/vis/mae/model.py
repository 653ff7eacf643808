"""MaskedAutoencoderViT: a vis-core ViT encoder on the visible 25% of patches, a light decoder that
reconstructs the removed ones, and a per-patch normalised MSE on removed patches only (He et al., 2022)."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.config import vit_size
from vis.core.models import MAEDecoder, VisionTransformer, masked_mse, patchify, random_masking, sincos_2d


class MaskedAutoencoderViT(nn.Module):
    """MAE with encoder `self.encoder` (timm ViT names, no head) and decoder `self.decoder`."""

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_chans: int = 3,
        embed_dim: int = 1024,
        depth: int = 24,
        num_heads: int = 16,
        decoder_embed_dim: int = 512,
        decoder_depth: int = 8,
        decoder_num_heads: int = 16,
        mlp_ratio: float = 4.0,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = True,
    ):
        super().__init__()
        self.mask_ratio, self.norm_pix_loss, self.in_chans = mask_ratio, norm_pix_loss, in_chans
        self.encoder = VisionTransformer(
            img_size=img_size, patch_size=patch_size, in_chans=in_chans, num_classes=0, embed_dim=embed_dim,
            depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio, pos_embed="sincos", sincos_order="mae",
        )
        grid = self.encoder.patch_embed.grid_size
        self.decoder = MAEDecoder(
            in_dim=embed_dim, dim=decoder_embed_dim, depth=decoder_depth, num_heads=decoder_num_heads,
            out_dim=patch_size**2 * in_chans, mlp_ratio=mlp_ratio,
            pos_table=sincos_2d(decoder_embed_dim, grid[0], grid[1], cls_token=True, order="mae"),
        )
        self.decoder.apply(_xavier_linears)

    @property
    def patch_size(self) -> int:
        return self.encoder.patch_size

    @property
    def num_patches(self) -> int:
        return self.encoder.patch_embed.num_patches

    def forward(self, imgs: torch.Tensor, noise: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """imgs: normalised [N, C, H, W]; noise: [N, L] uniform per sample (drawn here when omitted).

        Returns loss (mean over removed patches), pred [N, L, p*p*C] and mask [N, L] (1 = removed).
        """
        if noise is None:
            noise = torch.rand(imgs.shape[0], self.num_patches, device=imgs.device)
        m = random_masking(noise, self.mask_ratio)
        latent = self.encoder.forward_features(imgs, ids_keep=m.ids_keep)
        pred = self.decoder(latent, m.ids_restore, self.encoder.num_prefix_tokens)
        target = patchify(imgs, self.patch_size)
        loss = masked_mse(pred.float(), target.float(), m.mask, self.norm_pix_loss)
        return {"loss": loss, "pred": pred, "mask": m.mask}


def _xavier_linears(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def mae_vit(name: str, **kwargs) -> MaskedAutoencoderViT:
    """MAE for a named encoder size (vit_base_patch16, vit_large_patch16, vit_huge_patch14), decoder 512 x 8."""
    return MaskedAutoencoderViT(**vars(vit_size(name)), **kwargs)
