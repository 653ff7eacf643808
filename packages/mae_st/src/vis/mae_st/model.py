"""MAE-ST (Feichtenhofer et al., 2022): MAE on video. A clip is cut into (2, 16, 16) space-time patches,
90% of them removed uniformly at random (no tube or frame structure), the ViT encodes the rest, and a light
decoder predicts, for each removed token, the normalised pixels of one time slice (`pred_t_dim` target
frames out of the clip's frames)."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.models import MAEDecoder, VisionTransformer, masked_mse, patchify, random_masking
from vis.core.models.vit import xavier_qkv_as_separate


class MaskedAutoencoderViT3D(nn.Module):
    """Encoder `self.encoder` (core ViT, (t, p, p) patches, separable learned positions, cls token) and
    decoder `self.decoder` (own cls token and separable positions, 512 x 4 in the paper)."""

    def __init__(
        self, img_size: int = 224, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 1024, depth: int = 24,
        num_heads: int = 16, num_frames: int = 16, t_patch_size: int = 2, pred_t_dim: int = 8,
        decoder_embed_dim: int = 512, decoder_depth: int = 4, decoder_num_heads: int = 16, mlp_ratio: float = 4.0,
        mask_ratio: float = 0.9, norm_pix_loss: bool = True,
    ):
        super().__init__()
        if (t_patch_size * pred_t_dim) % num_frames:
            raise ValueError(f"pred_t_dim {pred_t_dim} x t_patch_size {t_patch_size} must be a multiple of "
                             f"{num_frames} frames")
        self.mask_ratio, self.norm_pix_loss = mask_ratio, norm_pix_loss
        self.encoder = VisionTransformer(
            img_size=img_size, patch_size=patch_size, in_chans=in_chans, num_classes=0, embed_dim=embed_dim,
            depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio, pos_embed="separable", num_frames=num_frames,
            t_patch_size=t_patch_size,
        )
        embed = self.encoder.patch_embed
        self.u = t_patch_size * pred_t_dim // num_frames  # target frames per token (1: one time slice)
        self.decoder = MAEDecoder(
            in_dim=embed_dim, dim=decoder_embed_dim, depth=decoder_depth, num_heads=decoder_num_heads,
            out_dim=self.u * patch_size**2 * in_chans, mlp_ratio=mlp_ratio, cls_token=True,
            separable_grid=(embed.t_grid_size, embed.grid_size[0] * embed.grid_size[1]),
        )
        for m in self.decoder.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        xavier_qkv_as_separate(self)  # the official model has separate q, k, v layers, each xavier-uniform
        # mae_st's target frames: linspace(0, T - 1, pred_t_dim) truncated ([0, 2, ..., 12, 15] for 16 -> 8)
        self.register_buffer("target_frames", torch.linspace(0, num_frames - 1, pred_t_dim).long(), persistent=False)

    @property
    def patch_size(self) -> int:
        return self.encoder.patch_size

    @property
    def num_patches(self) -> int:
        return self.encoder.patch_embed.num_patches

    def target(self, clips: torch.Tensor) -> torch.Tensor:
        """[N, L, u*p*p*C]: for each token, the pixels of its time slice of the target frames."""
        return patchify(clips.index_select(2, self.target_frames), self.patch_size, t=self.u)

    def forward(self, clips: torch.Tensor, noise: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """clips: normalised [N, C, T, H, W]; noise: [N, L] uniform per sample (drawn here when omitted).
        Returns loss (mean over removed tokens), pred [N, L, u*p*p*C] and mask [N, L] (1 = removed)."""
        if noise is None:
            noise = torch.rand(clips.shape[0], self.num_patches, device=clips.device)
        m = random_masking(noise, self.mask_ratio)
        latent = self.encoder.forward_features(clips, ids_keep=m.ids_keep)
        pred = self.decoder(latent, m.ids_restore, self.encoder.num_prefix_tokens)
        loss = masked_mse(pred.float(), self.target(clips).float(), m.mask, self.norm_pix_loss)
        return {"loss": loss, "pred": pred, "mask": m.mask}
