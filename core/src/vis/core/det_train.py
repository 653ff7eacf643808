"""Training and evaluating a plain-ViT Mask R-CNN on the shared Trainer (ViTDet, BenchDet): targets, the
objective, the parameter groups (layer-wise lr decay, the ViT's no-decay rule), the training run and the
stand-alone evaluation of a checkpoint. A method supplies how to build (and initialise) its detector and its
lr schedule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from vis.core.convert import read_checkpoint, strict_load
from vis.core.data.coco_spec import parse_detection_spec
from vis.core.data.lsj import DetectionDataset, keep, large_scale_jitter
from vis.core.det_config import DetectionEvalConfig, DetectionTrainConfig
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.errors import UserError
from vis.core.eval.detection import evaluate_detector
from vis.core.logger import format_line
from vis.core.models.window_attn import WindowBlock
from vis.core.optim import param_groups, vit_layer_id

log = logging.getLogger("vis")

TRUNK = "backbone.net."
"""Where the ViT sits in the detector (pre-trained ViT keys load under this prefix)."""


def training_targets(batch: dict, device: torch.device) -> list[dict]:
    """Targets for the model: crowd regions left out (detectron2 trains without them), tensors on device."""
    out = []
    for t in batch["label"]:
        t = keep(t, ~t["iscrowd"])
        out.append({k: t[k].to(device) for k in ("boxes", "labels", "masks")})
    return out


def detection_forward(model: nn.Module, batch: dict) -> dict[str, torch.Tensor]:
    """The objective: the sum of the RPN and RoI-head losses (each also logged)."""
    device = next(iter(model.parameters())).device
    images = [im.to(device) for im in batch["image"]]
    losses = model(images, training_targets(batch, device), seeds=batch["seed"])
    return {"loss": sum(losses.values()), **losses}


def check_classes(cfg: DetectionTrainConfig, num_classes: int) -> None:
    if num_classes != cfg.det.num_classes:
        raise UserError(f"the data has {num_classes} categories but --num-classes is {cfg.det.num_classes}",
                        cfg.data, f"pass --num-classes {num_classes}")


def vit_norm_or_pos(name: str) -> bool:
    """The trunk's pos_embed, its nn.LayerNorm parameters and its shared relative-bias tables (BEiT's no-decay
    rule) - not the pyramid's or the heads' norms."""
    return name.startswith(TRUNK) and (name.endswith(("pos_embed", "relative_position_bias_table"))
                                       or ".norm1." in name or ".norm2." in name)


def detector_groups(model: nn.Module, weight_decay: float, layer_decay: float, vit_norm_no_decay: bool) -> list[dict]:
    """AdamW groups: lr x layer_decay^(L + 1 - id) with id 0 for the patch / position embedding, i + 1 for
    blocks.i and L + 1 for the pyramid and heads; weight decay on everything (biases and rel-pos tables
    included) except, with `vit_norm_no_decay` (ViT-B/L presets), pos_embed, the ViT's LayerNorms and shared
    bias tables."""
    depth = len(model.backbone.net.blocks)
    decays = (lambda n, p: not vit_norm_or_pos(n)) if vit_norm_no_decay else (lambda n, p: True)
    return param_groups(model, weight_decay, layer_id=lambda n: vit_layer_id(n, depth + 1, TRUNK),
                        num_layers=depth + 1, layer_decay=layer_decay, decays=decays)


def count(module: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in module.parameters())


def fit_detector(cfg: DetectionTrainConfig, build: Callable[[], nn.Module],
                 lr_at: Callable[[float, float], float] | None = None) -> dict[str, Any]:
    """Train `build()` (the detector, already initialised) on cfg.data with large-scale jitter and AdamW,
    evaluating COCO AP on the val split every cfg.eval_every epochs; `lr_at` (epochs, base lr) -> lr, default
    linear warm-up then half cosine. Returns the Trainer's result."""
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_detection_spec(cfg.data)
    train_data, val_data = spec.dataset("train"), spec.dataset("val")
    check_classes(cfg, train_data.num_classes)
    model = build()
    train = DetectionDataset(train_data, partial(large_scale_jitter, size=cfg.img_size, scale_range=cfg.scale_range),
                             cfg.seed)

    def evaluate(epoch: int, m: nn.Module) -> dict[str, float]:
        return evaluate_detector(m, val_data, cfg.img_size, ctx.device, cfg.eval_batch_size,
                                 f"{cfg.output_dir}/checkpoints", cfg.max_skipped_fraction, cfg.data,
                                 f"coco_eval_epoch{epoch}")

    task = Task(
        model=model, train_data=train, forward=detection_forward,
        param_groups=lambda m: detector_groups(m, cfg.weight_decay, cfg.layer_decay, cfg.vit_norm_no_decay),
        optimizer="adamw", betas=(0.9, 0.999), lr_at=lr_at,
        evaluate=evaluate, eval_every=cfg.eval_every, best_metric="bbox/AP", fsdp_units=(WindowBlock,),
    )
    return Trainer(cfg, task, ctx).fit()


def detector_state(cfg: DetectionEvalConfig, det_options: type) -> tuple[dict, DetectionEvalConfig]:
    """The weights, and the options to build them with: a training checkpoint carries its own config."""
    state = read_checkpoint(cfg.checkpoint)
    if "config" in state and isinstance(state["config"], dict) and "det" in state["config"]:
        from vis.core.config import ViTOptions

        c = state["config"]
        cfg.vit, cfg.det, cfg.img_size = ViTOptions(**c["vit"]), det_options(**c["det"]), c["img_size"]
    sd = state.get("model", state)
    if not isinstance(sd, dict) or "rpn.head.conv.0.0.weight" not in sd:
        raise UserError("not a detector checkpoint", str(cfg.checkpoint), "expected detector training weights")
    return sd, cfg


def evaluate_checkpoint(cfg: DetectionEvalConfig, det_options: type,
                        build: Callable[[DetectionEvalConfig], nn.Module]) -> dict[str, Any]:
    """COCO box / mask AP of cfg.checkpoint on cfg.split (every rank's share, merged on rank 0), written as
    JSON beside the checkpoint; `build(cfg)` makes the detector from the (checkpoint's) options."""
    ctx = start_run(cfg.device, cfg.seed)
    data = parse_detection_spec(cfg.data).dataset(cfg.split)
    sd, cfg = detector_state(cfg, det_options)
    model = build(cfg)
    strict_load(model, sd, str(cfg.checkpoint))
    model.to(ctx.device)
    out = Path(cfg.checkpoint).parent
    metrics = evaluate_detector(model, data, cfg.img_size, ctx.device, cfg.batch_size, out, cfg.max_skipped_fraction,
                                cfg.data, f"coco_eval_{cfg.split}")
    if ctx.is_main:
        log.info(format_line(metrics))
    return metrics
