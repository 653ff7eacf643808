"""Weighted kNN monitor on L2-normalised features (k = 20, temperature 0.07), usable by every method."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from vis.core.config import SelfSupervisedConfig
from vis.core.data.skips import SkipCount, read_batch
from vis.core.data.specs import DataSpec
from vis.core.dist import DistContext, all_gather_nograd, world_size
from vis.core.logger import append_jsonl, format_line

log = logging.getLogger("vis")


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


class KnnMonitor:
    """The kNN monitor of a pre-training run (a SelfSupervisedConfig): `evaluate` is the Task's hook, which
    scores the learned features every `cfg.knn_every` epochs and after the last; `summary` scores a freshly
    initialised model of the same architecture once at the end, the random-init baseline the learned
    features are measured against. `features(model)` returns the encode function (it puts the model in
    eval mode)."""

    def __init__(self, features: Callable[[torch.nn.Module], Callable[[torch.Tensor], torch.Tensor]],
                 spec: DataSpec, transform: Callable, cfg: SelfSupervisedConfig, ctx: DistContext):
        self.features, self.spec, self.transform, self.cfg, self.ctx = features, spec, transform, cfg, ctx

    def accuracy(self, model: torch.nn.Module) -> float | None:
        cfg = self.cfg
        return knn_monitor(self.features(model), self.spec, self.transform, cfg.knn_batch_size, self.ctx,
                           cfg.max_skipped_fraction, cfg.data)

    def evaluate(self, epoch: int, model: torch.nn.Module) -> dict[str, float]:
        every = self.cfg.knn_every
        if epoch != self.cfg.epochs - 1 and not (every and (epoch + 1) % every == 0):
            return {}
        acc = self.accuracy(model)
        return {} if acc is None else {"knn_top1": acc}

    def summary(self, result: dict[str, Any], step: int, out_dir: Path,
                build_random: Callable[[], torch.nn.Module]) -> dict[str, Any]:
        """After a completed run whose last evaluation gave knn_top1: the same kNN on `build_random()` (built
        under the run's seed), written as one record to log.jsonl and one log line; returns `result` with
        both numbers (unchanged when the data has no val split)."""
        if "knn_top1" not in result:
            return result
        torch.manual_seed(self.cfg.seed)
        baseline = self.accuracy(build_random().to(self.ctx.device))
        summary = {"step": step, "knn_top1": result["knn_top1"], "knn_top1_random_init": baseline}
        if self.ctx.is_main:
            append_jsonl(Path(out_dir) / "log.jsonl", summary)
        log.info(format_line(summary))
        return {**result, **summary}
