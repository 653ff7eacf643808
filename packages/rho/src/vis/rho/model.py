"""The shared frame of the four rho-video objectives: an online encoder (video backbone + projection MLP), each
clip a separate pass, and what the momentum methods add (an EMA copy of the encoder). Each objective is a
subclass in its own module (moco, byol, simclr, swav) with its heads and its training step."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn as nn

from vis.core.models.heads import mlp_head
from vis.core.models.momentum import cosine_momentum, ema_update_, momentum_copy
from vis.core.models.slow_resnet import video_backbone

Backward = Callable[[torch.Tensor], None]


class RhoModel(nn.Module):
    """`encoder` = backbone (`encoder.backbone`, pooled features) + projection (`encoder.projection`).
    forward(views [V, N, C, T, H, W]) -> the online outputs [V, N, D], one pass per clip. `progress` holds the
    epochs done (fractional; saved with the model, so a resumed run knows where its schedules are). Each
    objective adds `step(model, views, backward, sequential) -> {"loss": mean per-query loss, ...}`: one
    training step's forward and backward passes over the clips, `model` being this module as wrapped."""

    def __init__(self, backbone: nn.Module, projection: nn.Module, temperature: float, momentum: float = 0.0,
                 epochs: float = 1.0, pairs: str = "all"):
        super().__init__()
        self.encoder = nn.Sequential(OrderedDict(backbone=backbone, projection=projection))
        self.temperature, self.m0, self.epochs, self.pairs = temperature, momentum, epochs, pairs
        self.register_buffer("progress", torch.zeros((), dtype=torch.float64))

    def online(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.online(v) for v in views])

    def add_momentum_encoder(self) -> None:
        self.momentum_encoder = momentum_copy(self.encoder)

    def momentum_at(self, epochs_done: float) -> float:
        return cosine_momentum(self.m0, epochs_done, self.epochs)

    @torch.no_grad()
    def after_step(self, step: int, epochs_done: float) -> None:
        """The Trainer's hook: record progress; update the momentum encoder with m(epochs done) (the
        reference updates before each step's keys with the same values; the first update there is a no-op)."""
        self.progress.fill_(epochs_done)
        if hasattr(self, "momentum_encoder") and epochs_done < self.epochs:
            ema_update_(self.momentum_encoder, self.encoder, self.momentum_at(epochs_done))

    def view_pairs(self, views: int) -> list[tuple[int, int]]:
        """Ordered (query, positive) clip pairs: every other clip, or (--pairs adjacent) the neighbours."""
        if self.pairs == "adjacent":
            return [(k, j) for k in range(views) for j in (k - 1, k + 1) if 0 <= j < views]
        return [(k, j) for k in range(views) for j in range(views) if j != k]


def projection_mlp(width: int, mlp_dim: int, dim: int, layers: int, bn: bool) -> nn.Sequential:
    """`layers` Linear layers width -> mlp_dim ... -> dim, hidden ones followed by (Sync)BN (when `bn`) and
    ReLU; the last one has a bias and no BN (SlowFast's contrastive projection heads)."""
    return mlp_head([width] + [mlp_dim] * (layers - 1) + [dim], last_bn=False, last_bias="trainable", bn=bn)


def build_model(cfg) -> RhoModel:
    """The model a PretrainConfig describes (its per-method fields resolved)."""
    from vis.rho import byol, moco, simclr, swav

    backbone = video_backbone(cfg.backbone)
    kinds = {"moco": moco.RhoMoCo, "byol": byol.RhoBYOL, "simclr": simclr.RhoSimCLR, "swav": swav.RhoSwAV}
    return kinds[cfg.method].from_config(backbone, cfg)
