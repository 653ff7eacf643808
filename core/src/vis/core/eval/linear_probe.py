"""Linear probing of a frozen backbone (ViT or ResNet), in eval mode throughout, so that no weight and no
BatchNorm statistic moves; at the end every backbone tensor is checked unchanged (MoCo v3's `sanity_check`).
MAE's protocol is BatchNorm without affine + a linear head, LARS and TF-style crops; MoCo v3's and
SimSiam's a linear head alone, SGD or LARC and a per-epoch cosine (LinearProbeConfig)."""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn as nn

from vis.core.convert import read_weights
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.data.transforms import center_crop, linear_probe_train, random_resized_crop_flip
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.errors import RunError
from vis.core.eval.classification import evaluate_classifier
from vis.core.eval.config import LinearProbeConfig
from vis.core.eval.finetune import WeightLoader
from vis.core.models.backbone import build_backbone
from vis.core.models.vit import trunc_normal_head_
from vis.core.optim import param_groups

log = logging.getLogger("vis")


class LinearProbe(nn.Module):
    """Frozen encoder (always in eval mode) + [BatchNorm1d(D, affine=False, eps 1e-6)] + Linear(D, classes)
    initialised N(0, 0.01) with zero bias; the encoder's forward returns [N, D] features."""

    def __init__(self, encoder: nn.Module, num_classes: int, bn: bool = True):
        super().__init__()
        self.encoder = encoder.requires_grad_(False).eval()
        dim = encoder.num_features
        linear = nn.Linear(dim, num_classes)
        self.head = nn.Sequential(nn.BatchNorm1d(dim, affine=False, eps=1e-6), linear) if bn else nn.Sequential(linear)
        trunc_normal_head_(linear, std=0.01)

    def train(self, mode: bool = True) -> LinearProbe:
        super().train(mode)
        self.encoder.eval()  # frozen: BatchNorm statistics (ResNet, conv stem) must not move
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            feats = self.encoder(x)
        return self.head(feats)


def linear_probe(cfg: LinearProbeConfig, load_weights: WeightLoader) -> dict[str, Any]:
    """Run the linear probe; `load_weights(model, state_dict, source)` is the method's converter."""
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset("val")
    encoder = build_backbone(cfg.arch, cfg.input_size, cfg.vit, cfg.resnet, pos_embed="sincos_trainable",
                             global_pool="avg" if cfg.global_pool else "token", conv_stem=cfg.conv_stem)
    if cfg.finetune:
        load_weights(encoder, read_weights(cfg.finetune), cfg.finetune)
        log.info(f"loaded encoder from {cfg.finetune}")
    probe = LinearProbe(encoder, train_raw.num_classes, bn=cfg.head == "bn_linear")
    frozen = {k: v.detach().clone() for k, v in probe.encoder.state_dict().items()}
    eval_tf = center_crop(cfg.input_size)
    train_tf = (linear_probe_train(cfg.input_size) if cfg.train_crop == "tf"
                else random_resized_crop_flip(cfg.input_size, (0.08, 1.0), bilinear=True))
    task = Task(
        model=probe,
        train_data=SeededDataset(train_raw, train_tf, cfg.seed),
        forward=lambda m, b: {"loss": nn.functional.cross_entropy(m(b["image"]), b["label"])},
        param_groups=lambda m: param_groups(m, cfg.weight_decay),
        optimizer=cfg.optimizer, lr_schedule=cfg.lr_schedule,
        evaluate=lambda epoch, m: evaluate_classifier(m, val_raw, eval_tf, cfg.eval_batch_size, ctx,
                                                      SkipCount(cfg.max_skipped_fraction, cfg.data, "evaluation")),
        best_metric="top1",
    )
    trainer = Trainer(cfg, task, ctx)
    if trainer.resume_path() is not None:  # the frozen reference is what the checkpoint holds
        frozen = {k: v.detach().clone() for k, v in
                  read_weights(trainer.resume_path()).items() if k.startswith("encoder.")}
        frozen = {k[len("encoder."):]: v for k, v in frozen.items()}
    result = trainer.fit()
    encoder_now = trainer.eval_model().encoder.state_dict()
    changed = [k for k, v in encoder_now.items() if not torch.equal(v.cpu(), frozen[k].cpu())]
    if changed:
        raise RunError(f"backbone changed during linear probing: {', '.join(changed[:5])}", cfg.output_dir,
                       "this is a bug; please report it")
    log.info(f"backbone check: all {len(frozen)} encoder tensors unchanged")
    return {**result, "backbone_unchanged": True}
