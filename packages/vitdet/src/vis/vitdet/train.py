"""vitdet-train: Mask R-CNN / Cascade Mask R-CNN on a plain ViT with the simple feature pyramid (Li et al.,
2022): large-scale jitter, MAE initialisation, AdamW with layer-wise lr decay, warm-up then step decay, COCO
box / mask AP on the validation split at the end (and every --eval-every epochs), written beside the
checkpoints."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import torch

from vis.core.convert_det import load_det_vit_init
from vis.core.data.coco_spec import parse_detection_spec
from vis.core.data.lsj import DetectionDataset, keep, large_scale_jitter
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.errors import UserError
from vis.core.eval.detection import evaluate_detector
from vis.core.models.window_attn import WindowBlock
from vis.core.optim import warmup_step
from vis.vitdet.config import TrainDetConfig
from vis.vitdet.model import build_detector, detector_groups

log = logging.getLogger("vis")


def training_targets(batch: dict, device: torch.device) -> list[dict]:
    """Targets for the model: crowd regions left out (detectron2 trains without them), tensors on device."""
    out = []
    for t in batch["label"]:
        t = keep(t, ~t["iscrowd"])
        out.append({k: t[k].to(device) for k in ("boxes", "labels", "masks")})
    return out


def detection_forward(model: torch.nn.Module, batch: dict) -> dict[str, torch.Tensor]:
    device = next(iter(model.parameters())).device
    images = [im.to(device) for im in batch["image"]]
    losses = model(images, training_targets(batch, device), seeds=batch["seed"])
    return {"loss": sum(losses.values()), **losses}


def check_classes(cfg: TrainDetConfig, num_classes: int) -> None:
    if num_classes != cfg.det.num_classes:
        raise UserError(f"the data has {num_classes} categories but --num-classes is {cfg.det.num_classes}",
                        cfg.data, f"pass --num-classes {num_classes}")


def main(cfg: TrainDetConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_detection_spec(cfg.data)
    train_data, val_data = spec.dataset("train"), spec.dataset("val")
    check_classes(cfg, train_data.num_classes)
    model = build_detector(cfg.vit, cfg.det, cfg.img_size)
    if cfg.init:
        fresh = load_det_vit_init(model.backbone.net, cfg.init)
        log.info(f"trunk initialised from {cfg.init}; left at initialisation: {', '.join(fresh) or 'nothing'}")
    train = DetectionDataset(train_data, partial(large_scale_jitter, size=cfg.img_size, scale_range=cfg.scale_range),
                             cfg.seed)

    def evaluate(epoch: int, m: torch.nn.Module) -> dict[str, float]:
        return evaluate_detector(m, val_data, cfg.img_size, ctx.device, cfg.eval_batch_size,
                                 f"{cfg.output_dir}/checkpoints", cfg.max_skipped_fraction, cfg.data,
                                 f"coco_eval_epoch{epoch}")

    task = Task(
        model=model, train_data=train, forward=detection_forward,
        param_groups=lambda m: detector_groups(m, cfg.weight_decay, cfg.layer_decay, cfg.vit_norm_no_decay),
        optimizer="adamw", betas=(0.9, 0.999),
        lr_at=lambda e, base: warmup_step(e, base, cfg.warmup_epochs, cfg.epochs, cfg.lr_steps, cfg.warmup_factor),
        evaluate=evaluate, eval_every=cfg.eval_every, best_metric="bbox/AP", fsdp_units=(WindowBlock,),
    )
    return Trainer(cfg, task, ctx).fit()


if __name__ == "__main__":  # python -m vis.vitdet.train (torchrun)
    from vis.vitdet import cli

    cli.train.cli()
