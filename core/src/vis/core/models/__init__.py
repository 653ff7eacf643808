"""Model building blocks shared by every method."""

from vis.core.models.mae_decoder import MAEDecoder
from vis.core.models.masking import Masking, gather_tokens, num_kept, per_sample_noise, random_masking
from vis.core.models.patches import masked_mse, normalize_patches, patchify, unpatchify
from vis.core.models.pos_embed import resize_pos_embed, sincos_2d
from vis.core.models.space_time import (
    PatchEmbed3D,
    deflate_patch_weight,
    inflate_patch_weight,
    resize_separable,
    separable_pos,
)
from vis.core.models.vit import Block, VisionTransformer

__all__ = [
    "Block", "MAEDecoder", "Masking", "PatchEmbed3D", "VisionTransformer", "deflate_patch_weight", "gather_tokens",
    "inflate_patch_weight", "masked_mse", "normalize_patches", "num_kept", "patchify", "per_sample_noise",
    "random_masking", "resize_pos_embed", "resize_separable", "separable_pos", "sincos_2d", "unpatchify",
]
