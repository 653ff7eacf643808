"""Configuration of SimSiam pre-training (a vis-core TrainConfig plus the model and augmentation options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import tyro

from vis.core.config import ResNetOptions, SelfSupervisedConfig, check


@dataclass
class PretrainConfig(SelfSupervisedConfig):
    """simsiam-pretrain options; every field is a --kebab-case flag."""

    resnet: Annotated[ResNetOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ResNetOptions)
    dim: int = 2048
    """Output width of the projector (and of the predictor)."""
    pred_dim: int = 512
    """Hidden (bottleneck) width of the predictor."""
    fix_pred_lr: bool = False
    """Keep the predictor's lr at its initial value while the encoder's follows the cosine (paper Table 1,
    the README command)."""
    stop_gradient: bool = True
    """Detach the target z in the loss; --no-stop-gradient is the paper's collapse ablation (section 4.1)."""
    blr: float = 0.05
    """Base learning rate: lr = blr x global batch / 256 (0.1 at batch 512)."""
    weight_decay: float = 1e-4
    """SGD weight decay on every parameter, BatchNorm and biases included."""

    def validate(self) -> None:
        super().validate()
        self.resnet.validate()
        for name in ("dim", "pred_dim"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
