"""Classification evaluation shared by fine-tuning and linear probing: top-1 / top-5 / loss over a split,
each rank taking an interleaved share, summed across ranks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
import tyro

from vis.core.config import TrainConfig, ViTOptions, check
from vis.core.dist import DistContext, world_size


@dataclass
class ClassifierConfig(TrainConfig):
    """What fine-tuning and linear probing share: the ViT, the weights to start from, the readout."""

    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    finetune: str | None = None
    """Pre-trained weights to start from (vis or official checkpoint); omit to start from random init."""
    input_size: int = 224
    global_pool: bool = False
    """Read out the mean of the patch tokens through fc_norm instead of the cls token after the final norm."""
    eval_batch_size: int = 256

    def validate(self) -> None:
        super().validate()
        self.vit.validate(self.input_size)
        if self.finetune is not None:
            check(Path(self.finetune).is_file(), "finetune", "is not a file", self.finetune)


@torch.no_grad()
def evaluate_classifier(model: nn.Module, dataset: torch.utils.data.Dataset, transform: Callable,
                        batch_size: int, ctx: DistContext) -> dict[str, float]:
    """{"top1", "top5", "loss"} of `model` (not DDP-wrapped: ranks may see different batch counts) on a raw
    (image, label) dataset, in percent for accuracies."""
    was_training = model.training
    model.eval()
    idx = list(range(ctx.rank, len(dataset), ctx.world_size))
    sums = torch.zeros(4, dtype=torch.float64, device=ctx.device)  # top1, top5, loss, count
    for s in range(0, len(idx), batch_size):
        items = [dataset[i] for i in idx[s : s + batch_size]]
        x = torch.stack([transform(img) for img, _ in items]).to(ctx.device)
        y = torch.tensor([lab for _, lab in items], device=ctx.device)
        logits = model(x).float()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        sums[0] += (top[:, 0] == y).sum()
        sums[1] += (top == y[:, None]).any(dim=1).sum()
        sums[2] += F.cross_entropy(logits, y, reduction="sum")
        sums[3] += len(y)
    if world_size() > 1:
        dist.all_reduce(sums)
    model.train(was_training)
    n = max(sums[3].item(), 1)
    return {"top1": 100 * sums[0].item() / n, "top5": 100 * sums[1].item() / n, "loss": sums[2].item() / n}
