"""detbench-train: Mask R-CNN with FPN on a plain ViT (Li et al., 2021) from one of five initialisations
(random, supervised, MoCo v3, BEiT, MAE), each loaded strictly by its key layout: large-scale jitter, AdamW,
0.25-epoch linear warm-up then half-period cosine, drop path, SyncBN; COCO box / mask AP on the validation
split at the end (and every --eval-every epochs), written beside the checkpoints."""

from __future__ import annotations

import logging
from typing import Any

import torch.nn as nn

from vis.core.det_train import fit_detector
from vis.detbench.config import TrainBenchConfig, parse_init
from vis.detbench.model import build_detector

log = logging.getLogger("vis")


def main(cfg: TrainBenchConfig) -> dict[str, Any]:
    kind, path = parse_init(cfg.init)

    def build() -> nn.Module:
        model = build_detector(cfg.vit, cfg.det, cfg.img_size)
        if path is not None:
            from vis.core.convert_inits import load_det_vit_kind

            fresh = load_det_vit_kind(model.backbone.net, path, kind)
            log.info(f"trunk initialised from {kind} weights {path}; left at initialisation: "
                     f"{', '.join(fresh) or 'nothing'}")
        return model

    return fit_detector(cfg, build)


if __name__ == "__main__":  # python -m vis.detbench.train (torchrun)
    from vis.detbench import cli

    cli.train.cli()
