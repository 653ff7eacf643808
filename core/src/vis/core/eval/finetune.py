"""End-to-end fine-tuning of a ViT classifier (the DeiT / MAE recipe), reusable by every method that
pre-trains a ViT: layer-wise lr decay, drop path, RandAugment, mixup / cutmix, label smoothing, random
erasing, average-pool readout with fc_norm, warm-up + cosine, top-1 / top-5 every epoch, best.pt kept.

Images by default; a video method passes its own model and clip transforms (`ClassifierParts`): a training
sample may then hold R clips of one video (repeated sampling, [R, C, T, H, W]), which are trained as R
samples with the video's label, and mixup / cutmix act on every frame alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn as nn

from vis.core.convert import StateDict, read_weights
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.data.transforms import center_crop, finetune_train
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.classification import evaluate_classifier
from vis.core.eval.config import FinetuneConfig
from vis.core.models.vit import VisionTransformer, trunc_normal_head_
from vis.core.optim import param_groups, vit_layer_id

log = logging.getLogger("vis")

WeightLoader = Callable[[nn.Module, StateDict, str], list[str]]


def build_classifier(cfg: FinetuneConfig, num_classes: int) -> VisionTransformer:
    return VisionTransformer(
        img_size=cfg.input_size, num_classes=num_classes, drop_path_rate=cfg.drop_path,
        global_pool="avg" if cfg.global_pool else "token", pos_embed="sincos_trainable", **vars(cfg.vit),
    )


@dataclass
class ClassifierParts:
    """What a method may supply instead of the image defaults: the classifier for a class count, the
    training and evaluation transforms, and how many training samples one item holds (repeated sampling:
    the lr's batch then counts them, as MAE-ST does)."""

    build: Callable[[int], nn.Module]
    train_transform: Callable
    eval_transform: Callable
    samples_per_item: int = 1


def _flatten_repeats(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, R, C, T, H, W] clips (R per video) -> [B*R, C, T, H, W] with each label repeated R times."""
    if x.ndim == 6:
        r = x.shape[1]
        return x.flatten(0, 1), y.repeat_interleave(r)
    return x, y


def _mix(mix: Callable, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """timm's Mixup on images, or on clips [N, C, T, H, W] seen as [N, C*T, H, W] so that the cutmix box is
    the same on every frame."""
    if x.ndim == 5:
        n, c, t, h, w = x.shape
        x2, y = mix(x.reshape(n, c * t, h, w), y)
        return x2.reshape(n, c, t, h, w), y
    return mix(x, y)


def finetune(cfg: FinetuneConfig, load_weights: WeightLoader, parts: ClassifierParts | None = None) -> dict[str, Any]:
    """Run fine-tuning; `load_weights(model, state_dict, source)` is the method's checkpoint converter;
    `parts` replaces the image classifier and transforms (video)."""
    from timm.data import Mixup
    from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy

    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset("val")
    num_classes = train_raw.num_classes
    if parts is None:
        parts = ClassifierParts(
            build=partial(build_classifier, cfg), eval_transform=center_crop(cfg.input_size),
            train_transform=finetune_train(cfg.input_size, cfg.aa, cfg.reprob, cfg.crop_min_scale))
    model = parts.build(num_classes)
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
        x, y = _flatten_repeats(batch["image"], batch["label"])
        if mix is not None:
            if len(x) % 2:  # a skipped unreadable sample left an odd batch; batch-mode mixup pairs samples
                x, y = x[:-1], y[:-1]
            x, y = _mix(mix, x, y)
        return {"loss": criterion(m(x), y)}

    num_layers = cfg.vit.depth + 1
    eval_tf = parts.eval_transform
    task = Task(
        model=model,
        train_data=SeededDataset(train_raw, parts.train_transform, cfg.seed),
        forward=forward, lr_batch_factor=parts.samples_per_item,
        param_groups=lambda m: param_groups(m, cfg.weight_decay, no_decay=m.no_weight_decay(),
                                            layer_id=partial(vit_layer_id, num_layers=num_layers),
                                            num_layers=num_layers, layer_decay=cfg.layer_decay),
        optimizer="adamw", betas=(0.9, 0.999),
        evaluate=lambda epoch, m: evaluate_classifier(m, val_raw, eval_tf, cfg.eval_batch_size, ctx,
                                                      SkipCount(cfg.max_skipped_fraction, cfg.data, "evaluation")),
        best_metric="top1",
    )
    trainer = Trainer(cfg, task, ctx)
    return trainer.fit()
