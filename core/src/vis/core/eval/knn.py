"""Weighted kNN monitor on L2-normalised features (k = 20, temperature 0.07), usable by every method."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from vis.core.data.skips import SkipCount, read_batch
from vis.core.data.specs import DataSpec
from vis.core.dist import DistContext, all_gather_nograd, world_size


@torch.no_grad()
def extract_features(
    encode: Callable[[torch.Tensor], torch.Tensor], dataset: torch.utils.data.Dataset, transform: Callable,
    batch_size: int, device: torch.device, skips: SkipCount, rank: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of every readable sample of a raw (image, label) dataset, in dataset order. Each
    rank encodes an interleaved share (padded to equal size) and the shares are gathered; unreadable samples
    are left out, named and counted in `skips`."""
    world = world_size()
    n = len(dataset)
    per_rank = -(-n // world)
    idx = [min(i, n - 1) for i in range(rank, per_rank * world, world)]
    feats, labels, oks, names = [], [], [], []
    for s in range(0, len(idx), batch_size):
        x, y, ok, bad = read_batch(dataset, idx[s : s + batch_size], transform)
        feats.append(encode(x.to(device)).float())
        labels.append(y.to(device))
        oks.append(ok.to(device))
        names += bad
    f, y, ok = (all_gather_nograd(torch.cat(parts)) for parts in (feats, labels, oks))
    # gathered order is rank-major; put back into dataset order, drop the padding and unreadable samples
    order = torch.tensor([i for r in range(world) for i in range(r, per_rank * world, world)], device=device)
    real = order < n
    skips.add(int((ok & real).sum()), list(dict.fromkeys(names)), skipped=int((~ok & real).sum()))
    keep = real & ok
    f, y, order = f[keep], y[keep], order[keep]
    inv = torch.argsort(order)
    return f[inv], y[inv]


def knn_classify(
    train_feats: torch.Tensor, train_labels: torch.Tensor, test_feats: torch.Tensor, num_classes: int,
    k: int = 20, temperature: float = 0.07, chunk: int = 1024,
) -> torch.Tensor:
    """Predicted class per test sample: votes of the k most cosine-similar training samples, each weighted
    by exp(similarity / temperature)."""
    train = F.normalize(train_feats, dim=1)
    test = F.normalize(test_feats, dim=1)
    k = min(k, train.shape[0])
    preds = []
    for s in range(0, test.shape[0], chunk):
        sim = test[s : s + chunk] @ train.T
        top_sim, top_idx = sim.topk(k, dim=1)
        weights = (top_sim / temperature).exp()
        votes = torch.zeros(sim.shape[0], num_classes, device=sim.device)
        votes.scatter_add_(1, train_labels[top_idx], weights)
        preds.append(votes.argmax(dim=1))
    return torch.cat(preds)


def knn_accuracy(train_feats: torch.Tensor, train_labels: torch.Tensor, test_feats: torch.Tensor,
                 test_labels: torch.Tensor, num_classes: int, k: int = 20, temperature: float = 0.07) -> float:
    """Top-1 accuracy (in [0, 1]) of the weighted kNN classifier."""
    pred = knn_classify(train_feats, train_labels, test_feats, num_classes, k, temperature)
    return (pred == test_labels).float().mean().item()


def knn_monitor(encode: Callable[[torch.Tensor], torch.Tensor], spec: DataSpec, transform: Callable,
                batch_size: int, ctx: DistContext, max_skipped_fraction: float, source: str) -> float | None:
    """kNN top-1 on the val split with the train split as reference, both encoded by `encode` (which puts
    its model in eval mode); None when the data has no val split. Unreadable samples are counted against
    `max_skipped_fraction` and reported as coming from `source` (the --data text)."""
    if not spec.has_split("val"):
        return None
    skips = SkipCount(max_skipped_fraction, source, "the kNN monitor")
    tr_f, tr_y = extract_features(encode, spec.dataset("train"), transform, batch_size, ctx.device, skips, ctx.rank)
    va_f, va_y = extract_features(encode, spec.dataset("val"), transform, batch_size, ctx.device, skips, ctx.rank)
    skips.report()
    num_classes = int(max(tr_y.max(), va_y.max()).item()) + 1
    return knn_accuracy(tr_f, tr_y, va_f, va_y, num_classes)
