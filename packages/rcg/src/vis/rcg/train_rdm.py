"""rcg-train-rdm: the representation diffusion model (Li, Katabi and He, RCG section 3.2).

Each augmented training image passes through the frozen MoCo v3 encoder and projector (on the fly, so every
epoch sees new representations); the representation is standardised per sample. A residual MLP learns to
recover the clean representation from its noised version under LDM's linear schedule (1000 steps, x0
prediction, plain MSE), with AdamW at a constant lr = blr x batch (not divided by 256) and an EMA of its
weights. The loss hardly moves during training; progress is measured by the Frechet distance between
representations sampled from the EMA weights (DDIM, eta 1) and the real representations (rep-FD), next to the
floor of two real sets (train vs val).
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from vis.core.data.skips import SkipCount
from vis.core.dist import DistContext
from vis.core.engine import Task, Trainer
from vis.core.eval.generative import feature_fd, generate_sharded
from vis.rcg.config import RdmConfig
from vis.rcg.encoder import RepEncoder
from vis.rcg.rdm import RDM
from vis.rcg.stages import constant_lr_groups, diffusion_draws, index_generators, real_reps, split_of, start_stage

log = logging.getLogger("vis")


def build_rdm(cfg: RdmConfig, rep_dim: int) -> RDM:
    return RDM(rep_dim, cfg.rdm_width, cfg.rdm_depth, cfg.rdm_dropout, cfg.ema_decay)


class RepFD:
    """The rep-FD monitor: generated vs real representations of the val split (train when there is none)."""

    def __init__(self, cfg: RdmConfig, encoder: RepEncoder, spec, ctx: DistContext):
        self.cfg, self.ctx = cfg, ctx
        skips = SkipCount(cfg.max_skipped_fraction, cfg.data, "the rep-FD monitor")
        split = split_of(spec)
        self.real, _ = real_reps(encoder, spec, split, cfg.input_size, cfg.batch_size, ctx, skips)
        self.floor = None
        if split != "train":
            train, _ = real_reps(encoder, spec, "train", cfg.input_size, cfg.batch_size, ctx, skips)
            self.floor = feature_fd(train, self.real)
        skips.report()

    def sample(self, model: RDM, n: int) -> torch.Tensor:
        cfg = self.cfg
        make = lambda idx: model.sample(len(idx), cfg.sample_steps, cfg.eta, index_generators(cfg.seed, idx),
                                        self.ctx.device)
        return generate_sharded(make, n, cfg.batch_size, "rdm samples")

    def evaluate(self, epoch: int, model: RDM) -> dict[str, float]:
        every = self.cfg.fd_every
        if epoch != self.cfg.epochs - 1 and not (every and (epoch + 1) % every == 0):
            return {}
        out = {"rep_fd": feature_fd(self.sample(model, self.cfg.fd_samples).cpu(), self.real.cpu())}
        return out if self.floor is None else {**out, "rep_fd_floor": self.floor}


def main(cfg: RdmConfig) -> dict[str, Any]:
    ctx, spec, encoder, train = start_stage(cfg)
    model = build_rdm(cfg, encoder.rep_dim)
    monitor = RepFD(cfg, encoder, spec, ctx)

    def forward(m: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        reps = encoder(batch["image"])
        t, noise = diffusion_draws(batch["seed"], (encoder.rep_dim,), model.diffusion.num_steps, reps.device)
        return m(reps, t, noise)

    task = Task(
        model=model, train_data=train, forward=forward, optimizer="adamw", betas=(0.9, 0.999),
        param_groups=lambda m: constant_lr_groups(m, cfg.weight_decay),
        lr_batch_factor=256,  # RCG's RDM: lr = blr x batch, without the usual / 256
        after_step=lambda step, epochs: model.ema.update(model.net), evaluate=monitor.evaluate,
    )
    result = Trainer(cfg, task, ctx).fit()
    if result.get("rep_fd") is not None:
        log.info(f"rep-FD {result['rep_fd']:.4f} (real-vs-real floor {monitor.floor})")
    return result


if __name__ == "__main__":  # python -m vis.rcg.train_rdm (torchrun)
    from vis.rcg import cli

    cli.train_rdm.cli()
