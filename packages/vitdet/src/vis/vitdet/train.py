"""vitdet-train: Mask R-CNN / Cascade Mask R-CNN on a plain ViT with the simple feature pyramid (Li et al.,
2022): large-scale jitter, MAE initialisation, AdamW with layer-wise lr decay, warm-up then step decay, COCO
box / mask AP on the validation split at the end (and every --eval-every epochs), written beside the
checkpoints."""

from __future__ import annotations

import logging
from typing import Any

import torch.nn as nn

from vis.core.convert_det import load_det_vit_init
from vis.core.det_train import fit_detector
from vis.core.optim import warmup_step
from vis.vitdet.config import TrainDetConfig
from vis.vitdet.model import build_detector

log = logging.getLogger("vis")


def main(cfg: TrainDetConfig) -> dict[str, Any]:
    def build() -> nn.Module:
        model = build_detector(cfg.vit, cfg.det, cfg.img_size)
        if cfg.init:
            fresh = load_det_vit_init(model.backbone.net, cfg.init)
            log.info(f"trunk initialised from {cfg.init}; left at initialisation: {', '.join(fresh) or 'nothing'}")
        return model

    return fit_detector(cfg, build, lambda e, base: warmup_step(e, base, cfg.warmup_epochs, cfg.epochs, cfg.lr_steps,
                                                                cfg.warmup_factor))


if __name__ == "__main__":  # python -m vis.vitdet.train (torchrun)
    from vis.vitdet import cli

    cli.train.cli()
