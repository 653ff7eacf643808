"""Pieces of the contrastive and clustering objectives shared by the video methods (rho-MoCo / BYOL / SimCLR /
SwAV): a key queue with multi-view enqueue, shuffle-BN, distributed Sinkhorn-Knopp and a pairwise NT-Xent over
the global batch."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from vis.core.dist import all_gather_grad, all_gather_nograd, rank, world_size


class KeyQueue(nn.Module):
    """A FIFO of `length` L2-normalised keys (MoCo), initialised uniform in +-1/sqrt(dim/3) as in SlowFast.
    `enqueue` writes the keys of every rank (all views of the batch: multi-view enqueue) at the pointer,
    wrapping around; `filled` turns true once every slot has been written (no update should happen before)."""

    def __init__(self, length: int, dim: int):
        super().__init__()
        bound = 1.0 / math.sqrt(dim / 3)
        self.register_buffer("keys", torch.rand(length, dim).mul_(2 * bound).sub_(bound))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        self.register_buffer("filled", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        keys = all_gather_nograd(keys.contiguous())
        n, length = keys.shape[0], self.keys.shape[0]
        if n > length:
            raise ValueError(f"{n} keys per step do not fit a queue of {length}")
        idx = (int(self.ptr) + torch.arange(n, device=keys.device)) % length
        self.keys[idx] = keys.to(self.keys.dtype)
        end = int(self.ptr) + n
        self.filled |= end >= length
        self.ptr.fill_(end % length)


@torch.no_grad()
def shuffled_forward(encoder: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """encoder(x) with the batch shuffled across ranks first and unshuffled after (MoCo's shuffle-BN: each
    rank's BatchNorm sees other ranks' samples, so a key's statistics do not leak its query's). Rank 0 draws
    the permutation; identity at world size 1. Every rank needs the same batch size."""
    if world_size() == 1:
        return encoder(x)
    everything = all_gather_nograd(x)
    perm = torch.randperm(everything.shape[0], device=x.device) if rank() == 0 else \
        torch.empty(everything.shape[0], dtype=torch.long, device=x.device)
    dist.broadcast(perm, 0)
    n = x.shape[0]
    out = all_gather_nograd(encoder(everything[perm[rank() * n : (rank() + 1) * n]]))
    unshuffled = torch.empty_like(out)
    unshuffled[perm] = out
    return unshuffled[rank() * n : (rank() + 1) * n]


@torch.no_grad()
def sinkhorn_knopp(scores: torch.Tensor, epsilon: float = 0.05, iters: int = 3) -> torch.Tensor:
    """SwAV codes [B, K] from prototype scores [B, K] of this rank, the sums taken over every rank's samples:
    Q = exp(scores / epsilon), then `iters` rounds of making each prototype's total mass 1/K and each
    sample's 1/B (B the global batch); returned rescaled so each sample's code sums to 1."""
    q = torch.exp(scores.float() / epsilon).T  # [K, B]
    b = torch.tensor(q.shape[1] * world_size(), dtype=q.dtype, device=q.device)
    k = q.shape[0]
    total = q.sum()
    if world_size() > 1:
        dist.all_reduce(total)
    q /= total
    for _ in range(iters):
        rows = q.sum(dim=1, keepdim=True)
        if world_size() > 1:
            dist.all_reduce(rows)
        q /= rows * k
        q /= q.sum(dim=0, keepdim=True) * b
    return (q * b).T


def nt_xent_pair(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent for two views over the global batch: each of this rank's 2n rows against the 2N
    features of every rank (gathered with gradient), its own similarity removed, the other view of the same
    sample the positive; mean over this rank's rows (the mean over ranks is the global loss)."""
    z1, z2 = F.normalize(z1.float(), dim=1), F.normalize(z2.float(), dim=1)
    n, r = z1.shape[0], rank()
    a1, a2 = all_gather_grad(z1), all_gather_grad(z2)
    cols = torch.cat([a1, a2])  # [2N, D]: view 1 of every sample, then view 2
    rows = torch.cat([z1, z2])  # [2n, D]
    big_n = a1.shape[0]
    own = torch.arange(n, device=z1.device) + r * n
    self_idx, pos_idx = torch.cat([own, own + big_n]), torch.cat([own + big_n, own])
    logits = rows @ cols.T / temperature
    logits[torch.arange(2 * n, device=z1.device), self_idx] = float("-inf")
    return F.cross_entropy(logits, pos_idx)


@contextlib.contextmanager
def bn_stats_kept(model: nn.Module) -> Iterator[None]:
    """Run a forward without moving BatchNorm running statistics (restored on exit): the extra no-grad pass
    of a gradient-cached step must not count twice."""
    saved = [(m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    try:
        yield
    finally:
        for m, mean, var, count in saved:
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
