"""MAE reconstructions as pictures: original | masked | reconstruction | reconstruction + visible."""

from __future__ import annotations

import torch

from vis.core.data.transforms import denormalize
from vis.core.models import patchify, per_sample_noise, unpatchify
from vis.mae.model import MaskedAutoencoderViT


@torch.no_grad()
def reconstruction_rows(model: MaskedAutoencoderViT, imgs: torch.Tensor, mask_seed: int = 0) -> list[torch.Tensor]:
    """Four [N, 3, H, W] tensors in [0, 1]. A norm-pix model predicts per-patch normalised pixels; to show
    them, each predicted patch is de-normalised with the mean and std of its own target patch (this uses the
    target, so it is for display only)."""
    model.eval()
    p = model.patch_size
    seeds = torch.arange(imgs.shape[0]) + mask_seed * 1_000_003
    out = model(imgs, noise=per_sample_noise(seeds, model.num_patches, imgs.device))
    pred, mask = out["pred"].float(), out["mask"]
    target = patchify(imgs, p)
    if model.norm_pix_loss:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        pred = pred * (var + 1e-6) ** 0.5 + mean
    h = imgs.shape[-2] // p
    grid = (1, h, imgs.shape[-1] // p)
    m = mask.unsqueeze(-1)
    recon = unpatchify(pred, p, grid)
    masked = unpatchify(target * (1 - m), p, grid)
    pasted = unpatchify(target * (1 - m) + pred * m, p, grid)
    to_img = denormalize
    masked_img = to_img(masked) * unpatchify((1 - m).expand_as(target), p, grid)  # removed patches black
    return [to_img(imgs), masked_img, to_img(recon), to_img(pasted)]
