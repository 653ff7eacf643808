"""rcg-train-pixel: the representation-conditioned pixel generator (Li, Katabi and He, RCG section 3.3).

Each training image is encoded by the frozen MoCo v3 encoder and projector; its standardised representation
conditions an ADM-style U-Net (added to the timestep embedding through a zero-initialised Linear) that learns
to predict the noise of the noised image. With probability 0.1 the representation is replaced by a learned
`fake_latent`, which later gives classifier-free guidance on the representation. Figures at the end:
<output-dir>/figures/reconstructions.png, real images (first column) and samples conditioned on their
representations (the paper's "oracle representation" setting) from the EMA weights.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from vis.core.data.skips import readable_samples
from vis.core.engine import Task, Trainer
from vis.core.viz import save_image_grid
from vis.rcg.config import PixelConfig
from vis.rcg.generator import PixelGenerator
from vis.rcg.stages import (
    diffusion_draws,
    eval_pipeline,
    index_generators,
    rep_drop_mask,
    split_of,
    start_stage,
)

log = logging.getLogger("vis")


def build_generator(cfg: PixelConfig, rep_dim: int) -> PixelGenerator:
    return PixelGenerator(
        cfg.input_size, rep_dim, cfg.rep_drop_prob, cfg.ema_decay, cfg.diffusion_steps, channels=cfg.channels,
        channel_mult=tuple(cfg.channel_mult), num_res_blocks=cfg.num_res_blocks,
        attention_resolutions=tuple(cfg.attention_resolutions), head_channels=cfg.head_channels,
        dropout=cfg.unet_dropout,
    )


def main(cfg: PixelConfig) -> dict[str, Any]:
    ctx, spec, encoder, train = start_stage(cfg)
    model = build_generator(cfg, encoder.rep_dim)

    def forward(m: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        images = batch["image"]
        t, noise = diffusion_draws(batch["seed"], tuple(images.shape[1:]), cfg.diffusion_steps, images.device)
        drop = rep_drop_mask(batch["seed"], cfg.rep_drop_prob, images.device)
        return m(images, encoder(images), t, noise, drop)

    task = Task(
        model=model, train_data=train, forward=forward, optimizer="adamw", betas=(0.9, 0.999),
        param_groups=lambda m: [{"params": [p for p in m.parameters() if p.requires_grad],
                                 "weight_decay": cfg.weight_decay, "name": "all"}],
        after_step=lambda step, epochs: model.ema.update(model.denoiser()),
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if trainer.stopped or trainer.epoch < cfg.epochs:
        return result
    if ctx.is_main:
        split = split_of(spec)
        real = readable_samples(spec.dataset(split), cfg.num_figures, eval_pipeline(cfg.input_size),
                                "conditioned-samples figure").to(ctx.device)
        fake = model.sample(encoder(real), cfg.sample_steps, cfg.eta, cfg.cfg,
                            index_generators(cfg.seed, torch.arange(len(real))))
        path = save_image_grid([real, fake], f"{cfg.output_dir}/figures/reconstructions.png",
                               upscale=max(1, 64 // cfg.input_size))
        log.info(f"conditioned samples: {path} (columns: real | generated from its representation)")
    return result


if __name__ == "__main__":  # python -m vis.rcg.train_pixel (torchrun)
    from vis.rcg import cli

    cli.train_pixel.cli()
