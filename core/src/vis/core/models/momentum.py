"""Momentum (exponential moving average) encoders: MoCo v3's key encoder, BYOL's target network."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn


def momentum_copy(module: nn.Module) -> nn.Module:
    """A copy of `module` that never receives gradients (it is updated only by `ema_update_`)."""
    return copy.deepcopy(module).requires_grad_(False)


@torch.no_grad()
def ema_update_(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """p_target <- m * p_target + (1 - m) * p_source over parameters only: BN running statistics are not
    averaged (each network keeps its own, as in MoCo v3 and BYOL)."""
    tgt, src = list(target.parameters()), list(source.parameters())
    if len(tgt) != len(src):
        raise ValueError(f"momentum encoder has {len(tgt)} parameters, its source {len(src)}")
    torch._foreach_mul_(tgt, momentum)
    torch._foreach_add_(tgt, src, alpha=1.0 - momentum)


def cosine_momentum(base: float, epoch: float, epochs: float) -> float:
    """MoCo v3 / BYOL schedule: m(e) = 1 - (1 - m0) * (1 + cos(pi e / E)) / 2, from m0 at e = 0 to 1 at
    e = E; `epoch` is fractional (updated every iteration)."""
    return 1.0 - 0.5 * (1.0 + math.cos(math.pi * min(epoch / epochs, 1.0))) * (1.0 - base)
