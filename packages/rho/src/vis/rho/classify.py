"""What rho-linprobe and rho-finetune share: a video classifier on a (pre-trained) backbone, trained on one
random clip per video and tested on temporal x spatial views per video (softmax scores averaged)."""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn as nn

from vis.core.data import parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.errors import RunError
from vis.core.eval.linear_probe import LinearProbe
from vis.core.eval.multiview import multiview_accuracy
from vis.core.models.slow_resnet import video_backbone
from vis.core.optim import param_groups
from vis.rho.config import ClassifyConfig
from vis.rho.convert import load_backbone
from vis.rho.data import classify_train_data, test_views

log = logging.getLogger("vis")


class VideoLinearProbe(LinearProbe):
    """Frozen backbone + linear head; with bn_stats "train" the backbone's BN statistics are re-estimated
    while the head trains (the shipped linear config, MODEL.FROZEN_BN unset); weights never move."""

    def __init__(self, encoder: nn.Module, num_classes: int, bn_stats: str = "frozen", head_bn: bool = False):
        super().__init__(encoder, num_classes, bn=head_bn)
        self.bn_stats = bn_stats

    def train(self, mode: bool = True) -> VideoLinearProbe:
        super().train(mode)
        self.encoder.train(mode and self.bn_stats == "train")
        return self


def train_classifier(cfg: ClassifyConfig, linear: bool) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset(cfg.eval_split)
    backbone = video_backbone(cfg.backbone, 0 if linear else train_raw.num_classes, cfg.dropout)
    if cfg.finetune:
        load_backbone(backbone, cfg.finetune)
        log.info(f"loaded backbone from {cfg.finetune}")
    model = VideoLinearProbe(backbone, train_raw.num_classes, cfg.bn_stats, cfg.head_bn) if linear else backbone
    frozen = {k: v.clone() for k, v in backbone.named_parameters()} if linear else {}
    views = test_views(cfg)
    task = Task(
        model=model, train_data=classify_train_data(cfg),
        forward=lambda m, b: {"loss": nn.functional.cross_entropy(m(b["image"]), b["label"])},
        param_groups=lambda m: param_groups(m, cfg.weight_decay), optimizer=cfg.optimizer,
        evaluate=lambda epoch, m: multiview_accuracy(m, val_raw, views, cfg.eval_batch_size, ctx,
                                                     SkipCount(cfg.max_skipped_fraction, cfg.data, "evaluation")),
        eval_every=cfg.eval_every, best_metric="top1",
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if linear and trainer.resume_path() is None:
        changed = [k for k, v in backbone.named_parameters() if not torch.equal(v.detach().cpu(), frozen[k].cpu())]
        if changed:
            raise RunError(f"backbone weights changed during linear probing: {', '.join(changed[:5])}",
                           cfg.output_dir, "this is a bug; please report it")
    return result
