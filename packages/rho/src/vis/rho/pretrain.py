"""rho-pretrain: temporally-persistent self-supervised pre-training of a video backbone (Feichtenhofer, Fan,
Xiong, Girshick and He, CVPR 2021, section 3).

Each video gives rho clips at independent random times, each augmented on its own; every clip is a query
whose positives are the other clips of its video, for one of four objectives (--method): MoCo (momentum keys,
a queue of negatives), BYOL (a predictor regressing momentum targets), SimCLR (the other samples of the global
batch as negatives) or SwAV (swapped prediction of Sinkhorn-Knopp codes). The loss is symmetric over all rho
clips. The sequential step holds one clip's activations at a time (momentum keys first, then forward and
backward per query clip; gradient caching for SimCLR and SwAV, whose losses couple the clips). Afterwards
the backbone is kept (rho-linprobe, rho-finetune).
"""

from __future__ import annotations

import logging
from typing import Any

from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.optim import param_groups
from vis.rho.config import PretrainConfig
from vis.rho.data import pretrain_data
from vis.rho.model import build_model

log = logging.getLogger("vis")


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    model = build_model(cfg)
    views = max(cfg.rho, 2)
    log.info(f"rho-{cfg.method}, rho {cfg.rho}: global batch {cfg.batch_size * ctx.world_size} videos x {views} "
             f"clips = {cfg.batch_size * ctx.world_size * views} clips (the lr rule counts videos)")
    task = Task(
        model=model, train_data=pretrain_data(cfg),
        forward=lambda m, b, backward: model.step(m, b["image"].transpose(0, 1), backward, cfg.sequential),
        manual_backward=True,
        param_groups=lambda m: param_groups(m, cfg.weight_decay),  # no decay on BN and biases
        optimizer=cfg.optimizer,
        sync_bn=cfg.method != "moco",  # MoCo: per-process BN with shuffle-BN for the keys
        after_step=model.after_step,
    )
    return Trainer(cfg, task, ctx).fit()


if __name__ == "__main__":  # python -m vis.rho.pretrain (torchrun)
    from vis.rho import cli

    cli.pretrain.cli()
