"""Video pieces of the ViT: (t, p, p) patch embedding, separable space-time position embeddings and their
interpolation, and inflation / deflation between 2-D and 3-D patch embeddings (MAE-ST, the rho study)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.models.pos_embed import resize_pos_embed


class PatchEmbed3D(nn.Module):
    """Non-overlapping (t, p, p) space-time patches of a [N, C, T, H, W] clip (Conv3d, kernel = stride) ->
    tokens in time-major order: token = t' * (H' W') + h' * W' + w'."""

    def __init__(self, img_size: int, patch_size: int, in_chans: int, embed_dim: int, num_frames: int,
                 t_patch_size: int):
        super().__init__()
        if num_frames % t_patch_size:
            raise ValueError(f"{num_frames} frames are not a whole number of {t_patch_size}-frame patches")
        self.img_size, self.patch_size = img_size, patch_size
        self.t_patch_size, self.num_frames = t_patch_size, num_frames
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.t_grid_size = num_frames // t_patch_size
        self.num_patches = self.t_grid_size * self.grid_size[0] * self.grid_size[1]
        k = (t_patch_size, patch_size, patch_size)
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=k, stride=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


def separable_pos(spatial: torch.Tensor, temporal: torch.Tensor, cls: torch.Tensor | None = None) -> torch.Tensor:
    """The [1, (1 +) T*S, D] table of a separable embedding: token (t, s) gets spatial[s] + temporal[t];
    the cls row (when given) goes first."""
    s, t = spatial.shape[1], temporal.shape[1]
    table = spatial.repeat(1, t, 1) + torch.repeat_interleave(temporal, s, dim=1)
    return table if cls is None else torch.cat([cls, table], dim=1)


def resize_separable(spatial: torch.Tensor, temporal: torch.Tensor, grid: tuple[int, int], t_grid: int
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Interpolate a separable embedding to a new (h, w) grid (bicubic) and T' time steps (linear)."""
    spatial = resize_pos_embed(spatial, grid, num_prefix_tokens=0)
    if temporal.shape[1] != t_grid:
        t = F.interpolate(temporal.transpose(1, 2).float(), size=t_grid, mode="linear", align_corners=False)
        temporal = t.transpose(1, 2).to(spatial.dtype)
    return spatial, temporal


def inflate_patch_weight(weight: torch.Tensor, t_patch_size: int) -> torch.Tensor:
    """A 2-D patch projection [D, C, p, p] as a 3-D one [D, C, t, p, p]: repeated over t and divided by t,
    so a clip of identical frames embeds exactly like one of its frames."""
    return weight.unsqueeze(2).repeat(1, 1, t_patch_size, 1, 1) / t_patch_size


def deflate_patch_weight(weight: torch.Tensor) -> torch.Tensor:
    """A 3-D patch projection [D, C, t, p, p] as a 2-D one: the sum over its temporal kernel (MAE-ST 5.5),
    which embeds an image as the 3-D one embeds the still clip of that image."""
    return weight.sum(dim=2)
