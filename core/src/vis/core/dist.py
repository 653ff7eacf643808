"""Process-group set-up (single process, torchrun, or SLURM via submitit), rank helpers, gathers, seeding."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: global rank, world size, local rank, and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str = "auto") -> DistContext:
    """Initialise from RANK/WORLD_SIZE/LOCAL_RANK (set by torchrun, or exported from submitit's job
    environment); gloo on CPU, NCCL on GPU. Without those variables, run as a single process."""
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", init_method="env://", rank=rank, world_size=world)
    return DistContext(rank, world, local, dev)


def start_run(device: str, seed: int) -> DistContext:
    """What every entry point does first: join the process group, set up rank-0 logging, seed per rank."""
    from vis.core.logger import setup_console

    ctx = init_distributed(device)
    setup_console(ctx.rank)
    seed_everything(seed, ctx.rank)
    return ctx


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on at least one."""
    if world_size() == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def mean_over_ranks(x: torch.Tensor) -> float:
    """The mean of a scalar over all ranks (what one process with the whole global batch would log)."""
    x = x.detach().float().reshape(1)
    if world_size() > 1:
        dist.all_reduce(x)
        x = x / world_size()
    return x.item()


def all_gather_nograd(x: torch.Tensor) -> torch.Tensor:
    """Concatenate x from every rank along dim 0 (same shape on each rank); identity at world size 1."""
    if world_size() == 1:
        return x
    out = [torch.empty_like(x) for _ in range(world_size())]
    dist.all_gather(out, x.contiguous())
    return torch.cat(out)


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x.contiguous())
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        g = torch.stack(grads)
        dist.all_reduce(g)
        return g[dist.get_rank()]


def all_gather_grad(x: torch.Tensor) -> torch.Tensor:
    """Like all_gather_nograd, but gradients flow back to every rank's input (contrastive losses)."""
    if world_size() == 1:
        return x
    return torch.cat(_GatherWithGrad.apply(x))


class _SumWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def all_reduce_grad(x: torch.Tensor) -> torch.Tensor:
    """The sum of x over all ranks, differentiable: each rank's input gets the summed gradient (synchronised
    BatchNorm statistics); identity at world size 1."""
    if world_size() == 1:
        return x
    return _SumWithGrad.apply(x)


def seed_everything(seed: int, rank: int = 0) -> None:
    """Seed python, numpy and torch with seed + rank (per-rank streams for drop path and the like)."""
    s = seed + rank
    random.seed(s)
    np.random.seed(s % 2**32)
    torch.manual_seed(s)
