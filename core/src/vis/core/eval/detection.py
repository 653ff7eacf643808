"""Evaluating a torchvision-style detector on a COCO-format dataset: each rank reads every world-size-th
image (long side resized to `size`), detects in batches, and the COCO evaluator merges the ranks' results on
rank 0. Unreadable images are skipped, named and counted against --max-skipped-fraction."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from vis.core.data.coco import CocoDataset
from vis.core.data.lsj import eval_resize
from vis.core.data.skips import SkipCount, unreadable
from vis.core.dist import rank, world_size
from vis.core.eval.coco import CocoEvaluator


@torch.no_grad()
def evaluate_detector(model: nn.Module, data: CocoDataset, size: int, device: torch.device, batch_size: int = 1,
                      out_dir: str | Path | None = None, max_skipped_fraction: float = 0.01, source: str = "",
                      name: str = "coco_eval") -> dict[str, float]:
    """Box / mask AP (bbox/AP, bbox/AP50, ..., segm/APl) in percent; writes <out_dir>/<name>.json on rank 0."""
    was_training = model.training
    model.eval()
    evaluator = CocoEvaluator(data.coco, data.cat_ids)
    skips = SkipCount(max_skipped_fraction, source, "evaluation")
    mine = list(range(rank(), len(data), world_size()))
    for start in range(0, len(mine), batch_size):
        images, targets, bad = [], [], []
        for i in mine[start : start + batch_size]:
            try:
                image, target = data[i]
                image, target = eval_resize(image, target, size)
            except Exception as e:  # unreadable or corrupt sample: skipped and counted
                bad.append(unreadable(data, i, e))
                continue
            images.append(image.float().div(255).to(device))
            targets.append(target)
        skips.add(len(images), bad)
        if not images:
            continue
        for out, image, target in zip(model(images), images, targets, strict=True):
            evaluator.add(out, target, tuple(image.shape[1:]))
    skips.report()
    model.train(was_training)
    return evaluator.summarize(out_dir, name)
