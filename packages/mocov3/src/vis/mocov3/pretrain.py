"""mocov3-pretrain: MoCo v3 self-supervised pre-training (Chen, Xie and He, 2021, section 3).

Two crops of each image, augmented asymmetrically (BYOL's pipelines), pass separately through the query
branch (backbone + projector + predictor) and through the key branch, a momentum copy of backbone and
projector whose momentum rises from m0 to 1 on a half cosine. Each query is contrasted with the keys of the
other view across the whole global batch (InfoNCE, temperature T, the positive is the same image; keys are
gathered from every process without gradient), symmetrised over the two views and scaled by 2T. There is no
memory queue: the other images of the large batch are the negatives. For ViTs the patch projection stays at
its random initialisation (stop-grad conv1), which removes the accuracy dips of unstable training; SyncBN
everywhere; AdamW (ViT) or LARS (ResNet-50). The kNN monitor reads the backbone's features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.transforms import center_crop
from vis.core.data.views import byol_views
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.knn import KnnMonitor
from vis.core.models.momentum import cosine_momentum, ema_update_
from vis.core.optim import uniform_groups
from vis.mocov3.config import PretrainConfig
from vis.mocov3.model import MoCoV3, build_mocov3


def momentum_at(cfg: PretrainConfig, epochs_done: float) -> float:
    """The key encoder's momentum after `epochs_done` (fractional) epochs."""
    return cosine_momentum(cfg.moco_m, epochs_done, cfg.epochs) if cfg.moco_m_cos else cfg.moco_m


def momentum_update(cfg: PretrainConfig, model: MoCoV3) -> Callable[[int, float], None]:
    """The Trainer's after_step hook. The official loop updates the key encoder before each forward with
    m(e) at the current fractional epoch; its first update is a no-op (both copies are still identical), so
    updating after each step with m(epochs done), except after the very last one (which the official loop
    never does; under the cosine schedule m(E) = 1 makes it a no-op anyway), is the same sequence."""
    def after_step(step: int, epochs_done: float) -> None:
        if epochs_done < cfg.epochs:
            ema_update_(model.momentum_encoder, model.base_encoder, momentum_at(cfg, epochs_done))
    return after_step


def encode_features(model: MoCoV3) -> Callable[[torch.Tensor], torch.Tensor]:
    """Frozen features for the kNN monitor: the backbone's readout (ViT cls token, ResNet pooled), before
    the projector."""
    def encode(x: torch.Tensor) -> torch.Tensor:
        model.eval()
        return model.base_encoder.features(x)
    return encode


def two_views(model: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
    views = batch["image"]  # [N, 2, C, H, W]
    return model(views[:, 0], views[:, 1])


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train = SeededDataset(spec.dataset("train"), byol_views(cfg.input_size, cfg.crop_min_scale), cfg.seed)
    model = build_mocov3(cfg)
    knn = KnnMonitor(encode_features, spec, center_crop(cfg.input_size), cfg, ctx)
    task = Task(
        model=model, train_data=train, forward=two_views,
        # wd on every parameter (AdamW, as the official ViT recipe); LARS skips ndim <= 1 itself
        param_groups=lambda m: uniform_groups(m, cfg.weight_decay), optimizer=cfg.optimizer,
        after_step=momentum_update(cfg, model), evaluate=knn.evaluate,
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if trainer.stopped or trainer.epoch < cfg.epochs:
        return result
    return knn.summary(result, trainer.step, trainer.out, lambda: build_mocov3(cfg))


if __name__ == "__main__":  # python -m vis.mocov3.pretrain (torchrun)
    from vis.mocov3 import cli

    cli.pretrain.cli()
