"""Linear probing of a frozen ViT: BatchNorm without affine + a linear head on the cls token, LARS,
TF-style RandomResizedCrop. At the end it checks that no backbone weight or buffer changed."""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn as nn

from vis.core.convert import read_weights
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.data.transforms import center_crop, linear_probe_train
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.errors import RunError
from vis.core.eval.classification import evaluate_classifier
from vis.core.eval.config import LinearProbeConfig
from vis.core.eval.finetune import WeightLoader
from vis.core.models.vit import VisionTransformer, trunc_normal_head_
from vis.core.optim import param_groups

log = logging.getLogger("vis")


class LinearProbe(nn.Module):
    """Frozen encoder + BatchNorm1d(D, affine=False, eps 1e-6) + Linear(D, classes)."""

    def __init__(self, encoder: VisionTransformer, num_classes: int):
        super().__init__()
        self.encoder = encoder.requires_grad_(False)
        dim = encoder.embed_dim
        self.head = nn.Sequential(nn.BatchNorm1d(dim, affine=False, eps=1e-6), nn.Linear(dim, num_classes))
        trunc_normal_head_(self.head[1], std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            feats = self.encoder.pool(self.encoder.forward_features(x))
        return self.head(feats)


def linear_probe(cfg: LinearProbeConfig, load_weights: WeightLoader) -> dict[str, Any]:
    """Run the linear probe; `load_weights(model, state_dict, source)` is the method's converter."""
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset("val")
    encoder = VisionTransformer(img_size=cfg.input_size, num_classes=0, pos_embed="sincos_trainable",
                                global_pool="avg" if cfg.global_pool else "token", **vars(cfg.vit))
    if cfg.finetune:
        load_weights(encoder, read_weights(cfg.finetune), cfg.finetune)
        log.info(f"loaded encoder from {cfg.finetune}")
    probe = LinearProbe(encoder, train_raw.num_classes)
    frozen = {k: v.detach().clone() for k, v in probe.encoder.state_dict().items()}
    eval_tf = center_crop(cfg.input_size)
    task = Task(
        model=probe,
        train_data=SeededDataset(train_raw, linear_probe_train(cfg.input_size), cfg.seed),
        forward=lambda m, b: {"loss": nn.functional.cross_entropy(m(b["image"]), b["label"])},
        param_groups=lambda m: param_groups(m, cfg.weight_decay),
        optimizer="lars",
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
