"""End-to-end fine-tuning of a ViT classifier (the DeiT / MAE recipe), reusable by every method that
pre-trains a ViT: layer-wise lr decay, drop path, RandAugment, mixup / cutmix, label smoothing, random
erasing, average-pool readout with fc_norm, warm-up + cosine, top-1 / top-5 every epoch, best.pt kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn as nn

from vis.core.config import check
from vis.core.convert import StateDict, read_weights
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.transforms import center_crop, finetune_train
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.classification import ClassifierConfig, evaluate_classifier
from vis.core.models.vit import VisionTransformer, trunc_normal_head_
from vis.core.optim import param_groups, vit_layer_id

log = logging.getLogger("vis")

WeightLoader = Callable[[nn.Module, StateDict, str], list[str]]


@dataclass
class FinetuneConfig(ClassifierConfig):
    """Fine-tuning options; every field is a --kebab-case flag."""

    global_pool: bool = True
    drop_path: float = 0.1
    layer_decay: float = 0.75
    mixup: float = 0.8
    cutmix: float = 1.0
    smoothing: float = 0.1
    reprob: float = 0.25
    """Random-erasing probability (pixel mode, one box)."""
    aa: str | None = "rand-m9-mstd0.5-inc1"
    """timm RandAugment policy (None: off)."""
    crop_min_scale: float = 0.08

    def validate(self) -> None:
        super().validate()
        check(0 <= self.drop_path < 1, "drop_path", "must be in [0, 1)", self.drop_path)
        check(0 < self.layer_decay <= 1, "layer_decay", "must be in (0, 1]", self.layer_decay)
        for name in ("mixup", "cutmix", "smoothing", "reprob"):
            check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))
        check(not (self.mixup or self.cutmix) or self.batch_size % 2 == 0, "batch_size",
              "must be even with mixup / cutmix", self.batch_size)


def build_classifier(cfg: FinetuneConfig, num_classes: int) -> VisionTransformer:
    return VisionTransformer(
        img_size=cfg.input_size, num_classes=num_classes, drop_path_rate=cfg.drop_path,
        global_pool="avg" if cfg.global_pool else "token", pos_embed="sincos_trainable", **vars(cfg.vit),
    )


def finetune(cfg: FinetuneConfig, load_weights: WeightLoader) -> dict[str, Any]:
    """Run fine-tuning; `load_weights(model, state_dict, source)` is the method's checkpoint converter."""
    from timm.data import Mixup
    from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy

    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset("val")
    num_classes = train_raw.num_classes
    model = build_classifier(cfg, num_classes)
    if cfg.finetune:
        fresh = load_weights(model, read_weights(cfg.finetune), cfg.finetune)
        trunc_normal_head_(model.head, std=2e-5)
        log.info(f"loaded {cfg.finetune}; initialised here: {', '.join(fresh) or 'nothing'}")

    mix = None
    if cfg.mixup > 0 or cfg.cutmix > 0:
        mix = Mixup(mixup_alpha=cfg.mixup, cutmix_alpha=cfg.cutmix, prob=1.0, switch_prob=0.5, mode="batch",
                    label_smoothing=cfg.smoothing, num_classes=num_classes)
        criterion: nn.Module = SoftTargetCrossEntropy()
    elif cfg.smoothing > 0:
        criterion = LabelSmoothingCrossEntropy(cfg.smoothing)
    else:
        criterion = nn.CrossEntropyLoss()

    def forward(m: nn.Module, batch: dict) -> dict[str, torch.Tensor]:
        x, y = batch["image"], batch["label"]
        if mix is not None:
            if len(x) % 2:  # a skipped unreadable sample left an odd batch; batch-mode mixup pairs samples
                x, y = x[:-1], y[:-1]
            x, y = mix(x, y)
        return {"loss": criterion(m(x), y)}

    num_layers = cfg.vit.depth + 1
    eval_tf = center_crop(cfg.input_size)
    task = Task(
        model=model,
        train_data=SeededDataset(train_raw, finetune_train(cfg.input_size, cfg.aa, cfg.reprob, cfg.crop_min_scale),
                                 cfg.seed),
        forward=forward,
        param_groups=lambda m: param_groups(m, cfg.weight_decay, no_decay={"pos_embed", "cls_token"},
                                            layer_id=partial(vit_layer_id, num_layers=num_layers),
                                            num_layers=num_layers, layer_decay=cfg.layer_decay),
        optimizer="adamw", betas=(0.9, 0.999),
        evaluate=lambda epoch, m: evaluate_classifier(m, val_raw, eval_tf, cfg.eval_batch_size, ctx),
        best_metric="top1",
    )
    trainer = Trainer(cfg, task, ctx)
    return trainer.fit()
