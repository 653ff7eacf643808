"""Timing helpers shared by the benchmark scripts (benchmarks/): wall time per call with CUDA synchronised,
and a detector's train step, inference and peak memory on given images and targets."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import torch
import torch.nn as nn


def timed(fn: Callable[[], object], steps: int, device: torch.device) -> float:
    """Seconds per call of `fn` over `steps` calls, after one warm-up call."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / steps


def detector_costs(model: nn.Module, images: list[torch.Tensor], targets: list[dict], steps: int,
                   device: torch.device, autocast=None) -> tuple[float, float, float]:
    """(train s/iter with AdamW, inference s/iter, peak training memory in GB; nan off CUDA) of a torchvision-
    style detector whose training forward returns a dict of losses."""
    autocast = autocast if autocast is not None else contextlib.nullcontext()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def step():
        model.train()
        with autocast:
            loss = sum(model(images, targets).values())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    def infer():
        model.eval()
        with torch.no_grad(), autocast:
            model(images)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t_train = timed(step, steps, device)
    mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    return t_train, timed(infer, steps, device), mem
