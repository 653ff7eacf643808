"""What a method supplies to the Trainer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from vis.core.data.loader import SeededDataset
from vis.core.models.vit import Block

Batch = dict[str, Any]


@dataclass
class Task:
    """A method's model, data, objective, parameter groups and hooks."""

    model: nn.Module
    train_data: SeededDataset
    forward: Callable[[nn.Module, Batch], dict[str, torch.Tensor]]
    """(model as wrapped for training, batch on device) -> {"loss": scalar tensor, other scalars}."""
    param_groups: Callable[[nn.Module], list[dict]]
    manual_backward: bool = False
    """forward runs its own backward passes (the sequential multi-view step: one per clip, so memory holds one
    clip's activations): it is called as forward(model, batch, backward=fn), fn(loss) back-propagates with the
    loop's loss scaling, and the loss it returns is only logged."""
    optimizer: str = "adamw"
    """adamw | sgd (momentum 0.9) | lars (MoCo v3 / MAE: no decay or adaptation for ndim <= 1) | larc (apex
    LARC, clip off: every parameter adapted)."""
    betas: tuple[float, float] = (0.9, 0.999)
    nesterov: bool = False
    """With optimizer "sgd": Nesterov momentum (pycls, the relational-graph networks)."""
    lr_schedule: str = "iteration"
    """"iteration": warm-up + cosine updated every step; "epoch": the cosine value at the start of each epoch,
    constant within it (SimSiam, MoCo v3's linear classification). Groups with "fix_lr" keep the base lr."""
    lr_at: Callable[[float, float], float] | None = None
    """(epochs done, fractional; base lr) -> lr, in place of warm-up + cosine (e.g. `optim.warmup_step`)."""
    lr_batch_factor: int = 1
    """The lr rule's batch is global batch x this (MAE-ST fine-tuning counts the R clips of repeated
    sampling; its pre-training does not)."""
    sync_bn: bool = True
    """With several processes, every BatchNorm normalises over the global batch (vis.core.sync_bn)."""
    after_step: Callable[[int, float], None] | None = None
    """Called after each optimizer step with the step count and the epochs done so far (fractional), e.g. a
    momentum-encoder update on its cosine schedule."""
    evaluate: Callable[[int, nn.Module], dict[str, float]] | None = None
    """Called on every rank at the end of each epoch with the epoch index and the model with full weights
    (unsharded under FSDP); its metrics are logged."""
    eval_every: int = 1
    best_metric: str | None = None
    """A metric of `evaluate` (higher is better); the checkpoint with its best value is kept as best.pt."""
    fsdp_units: tuple[type[nn.Module], ...] = (Block,)
    """Module types that become their own FSDP unit under --parallel fsdp (the transformer blocks)."""
