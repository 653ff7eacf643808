"""Multi-view testing of video classifiers (SlowFast / MAE-ST protocol): each video is seen as several
temporal x spatial views, and its prediction is the sum (equivalently, the mean) of the views' softmax
scores. Views of one video may come from different batches or ranks: scores are accumulated per video id
and summed over ranks."""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist

from vis.core.dist import world_size


class MultiViewMeter:
    """Per-video sums of softmax scores; `summary()` (collective with several processes) gives top-1 / top-5
    over the videos that had at least one view."""

    def __init__(self, num_videos: int, num_classes: int, device: torch.device | str = "cpu"):
        self.scores = torch.zeros(num_videos, num_classes, dtype=torch.float64, device=device)
        self.views = torch.zeros(num_videos, dtype=torch.float64, device=device)
        self.labels = torch.full((num_videos,), -1, dtype=torch.long, device=device)

    def add(self, video_ids: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """logits [B, C] (one view each) or [B, V, C] (V views of each video)."""
        probs = logits.float().softmax(dim=-1)
        if probs.ndim == 2:
            probs = probs.unsqueeze(1)
        ids = video_ids.to(self.scores.device)
        self.scores.index_add_(0, ids, probs.sum(dim=1).to(self.scores))
        self.views.index_add_(0, ids, torch.full((len(ids),), float(probs.shape[1]), dtype=torch.float64,
                                                 device=self.scores.device))
        self.labels[ids] = labels.to(self.labels.device)

    def summary(self) -> dict[str, float]:
        """{"top1", "top5" (percent), "videos" (seen), "views_per_video"}."""
        if world_size() > 1:
            for t, op in ((self.scores, dist.ReduceOp.SUM), (self.views, dist.ReduceOp.SUM),
                          (self.labels, dist.ReduceOp.MAX)):
                dist.all_reduce(t, op=op)
        seen = self.views > 0
        scores, labels = self.scores[seen], self.labels[seen]
        top = scores.topk(min(5, scores.shape[1]), dim=1).indices
        n = max(int(seen.sum()), 1)
        return {"top1": 100.0 * (top[:, 0] == labels).sum().item() / n,
                "top5": 100.0 * (top == labels[:, None]).any(dim=1).sum().item() / n,
                "videos": int(seen.sum()), "views_per_video": float(self.views[seen].mean()) if seen.any() else 0.0}


@torch.no_grad()
def multiview_accuracy(model: torch.nn.Module, dataset, views, batch_size: int, ctx, skips,
                       seed: int | None = None) -> dict[str, float]:
    """Multi-view top-1 / top-5 of a clip classifier on a video dataset: `views` (a ClipSampler with
    temporal x spatial test views) turns each video into [V, C, T, H, W]; each rank takes an interleaved share;
    unreadable videos are named and counted in `skips` (a vis.core.data.skips.SkipCount). With `seed`, each
    batch is read under its own seed (for views with random parts, e.g. shuffled frames)."""
    from vis.core.data.skips import read_batch

    was_training = model.training
    model.eval()
    meter = MultiViewMeter(len(dataset), dataset.num_classes, ctx.device)
    ids = list(range(ctx.rank, len(dataset), ctx.world_size))
    for s in range(0, len(ids), batch_size):
        chunk = torch.tensor(ids[s : s + batch_size])
        with torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext():
            if seed is not None:
                torch.manual_seed(seed * 1_000_003 + s)
            x, y, ok, bad = read_batch(dataset, chunk.tolist(), views)
        skips.add(int(ok.sum()), bad)
        if not ok.any():
            continue
        x = x[ok].to(ctx.device)
        if x.ndim == 5:  # one view per video
            x = x.unsqueeze(1)
        logits = model(x.flatten(0, 1)).view(x.shape[0], x.shape[1], -1)
        meter.add(chunk[ok], logits, y[ok])
    model.train(was_training)
    skips.report()
    return meter.summary()
