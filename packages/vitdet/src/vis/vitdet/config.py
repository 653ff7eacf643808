"""Options of vitdet-train and vitdet-eval (plain data: no torch import, so --help and bad input are fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import tyro

from vis.core.config import check
from vis.core.det_config import DetectionEvalConfig, DetectionTrainConfig, RCNNOptions


@dataclass
class DetectorOptions(RCNNOptions):
    """The detector: ViT trunk options, simple feature pyramid and Mask R-CNN / Cascade heads."""

    use_rel_pos: bool = True
    cascade: bool = False
    """Cascade Mask R-CNN (3 stages, IoU 0.5 / 0.6 / 0.7) instead of Mask R-CNN."""


@dataclass
class TrainDetConfig(DetectionTrainConfig):
    """vitdet-train options; every field is a --kebab-case flag."""

    det: Annotated[DetectorOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DetectorOptions)
    init: str | None = None
    """MAE checkpoint for the trunk: vis mae-pretrain, a vis backbone file, or an official
    mae_pretrain_vit_*.pth (strict keys; patch kernel and position table resampled)."""
    lr_steps: tuple[float, float] = (0.889, 0.963)
    """Fractions of training at which the lr drops by 10x."""
    warmup_factor: float = 0.001
    """The linear warm-up starts at lr x this."""

    def validate(self) -> None:
        super().validate()
        check(all(0 < s < 1 for s in self.lr_steps), "lr_steps", "must be fractions in (0, 1)", self.lr_steps)
        if self.init is not None:
            from pathlib import Path

            check(Path(self.init).is_file(), "init", "names a file that does not exist", self.init)


@dataclass
class EvalDetConfig(DetectionEvalConfig):
    """vitdet-eval options: COCO box / mask AP of a checkpoint on a split."""

    det: Annotated[DetectorOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=DetectorOptions)
