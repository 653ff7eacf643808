"""Classification evaluation shared by fine-tuning and linear probing: top-1 / top-5 / loss over a split,
each rank taking an interleaved share, summed across ranks."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from vis.core.data.skips import SkipCount, read_batch
from vis.core.dist import DistContext, world_size


@torch.no_grad()
def evaluate_classifier(model: nn.Module, dataset: torch.utils.data.Dataset, transform: Callable,
                        batch_size: int, ctx: DistContext, skips: SkipCount) -> dict[str, float]:
    """{"top1", "top5", "loss"} of `model` (not DDP-wrapped: ranks may see different batch counts) on a raw
    (image, label) dataset, in percent for accuracies. Unreadable samples are left out, named and counted in
    `skips` (over all ranks)."""
    was_training = model.training
    model.eval()
    idx = list(range(ctx.rank, len(dataset), ctx.world_size))
    sums = torch.zeros(5, dtype=torch.float64, device=ctx.device)  # top1, top5, loss, count, skipped
    names: list[str] = []
    for s in range(0, len(idx), batch_size):
        x, y, ok, bad = read_batch(dataset, idx[s : s + batch_size], transform)
        names += bad
        sums[4] += len(bad)
        if not ok.any():
            continue
        x, y = x[ok].to(ctx.device), y[ok].to(ctx.device)
        logits = model(x).float()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        sums[0] += (top[:, 0] == y).sum()
        sums[1] += (top == y[:, None]).any(dim=1).sum()
        sums[2] += F.cross_entropy(logits, y, reduction="sum")
        sums[3] += len(y)
    if world_size() > 1:
        dist.all_reduce(sums)
    model.train(was_training)
    skips.add(int(sums[3].item()), names, skipped=int(sums[4].item()))
    skips.report()
    n = max(sums[3].item(), 1)
    return {"top1": 100 * sums[0].item() / n, "top5": 100 * sums[1].item() / n, "loss": sums[2].item() / n}
