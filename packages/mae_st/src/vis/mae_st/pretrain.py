"""maest-pretrain: masked-autoencoder pre-training on video (Feichtenhofer et al., 2022, section 3).

Each decoded video gives R clips (repeated sampling); a clip of 16 frames is cut into 2 x 16 x 16
space-time patches, 90% of which, drawn uniformly per clip, are removed; the encoder sees the remaining 10%,
and the decoder regresses the per-patch normalised pixels of one time slice per removed patch. Afterwards
the encoder is kept (maest-finetune) and the decoder discarded.
"""

from __future__ import annotations

from typing import Any

import torch

from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.models import per_sample_noise
from vis.core.optim import param_groups
from vis.mae_st.config import PretrainConfig
from vis.mae_st.data import pretrain_data
from vis.mae_st.model import MaskedAutoencoderViT3D


def build_model(cfg: PretrainConfig) -> MaskedAutoencoderViT3D:
    return MaskedAutoencoderViT3D(
        img_size=cfg.input_size, **vars(cfg.vit), **vars(cfg.decoder), num_frames=cfg.clip.num_frames,
        t_patch_size=cfg.clip.t_patch_size, pred_t_dim=cfg.pred_t_dim, mask_ratio=cfg.mask_ratio,
        norm_pix_loss=cfg.norm_pix_loss,
    )


def forward(model, batch: dict, num_patches: int) -> dict[str, torch.Tensor]:
    """The R clips of each video are R samples; clip r of a video takes the r-th slice of its noise."""
    clips = batch["image"]
    if clips.ndim == 5:
        clips = clips.unsqueeze(1)
    n, r = clips.shape[:2]
    noise = per_sample_noise(batch["seed"], r * num_patches, clips.device).view(n * r, num_patches)
    return model(clips.flatten(0, 1), noise=noise)


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    model = build_model(cfg)
    task = Task(
        model=model, train_data=pretrain_data(cfg.data, cfg.clip, cfg.input_size, cfg.crop_min_scale, cfg.seed),
        forward=lambda m, b: forward(m, b, model.num_patches),
        param_groups=lambda m: param_groups(m, cfg.weight_decay),  # only 1-D parameters skip decay (mae_st)
        optimizer="adamw", betas=(0.9, 0.95),
    )
    return Trainer(cfg, task, ctx).fit()


if __name__ == "__main__":  # python -m vis.mae_st.pretrain (torchrun)
    from vis.mae_st import cli

    cli.pretrain.cli()
