"""FLOP counting in multiply-adds (the papers' convention) with fvcore, attention included.

fvcore skips `aten::scaled_dot_product_attention` (ViT-B/16 would count 16.87 G instead of 17.58 G), so a
handle for it is registered here. `meta_macs` is an independent count with torch's FlopCounterMode on the
meta device (no memory, no init cost) for cross-checks and very large models.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn


def _sdpa_macs(inputs: list[Any], outputs: list[Any]) -> int:
    from fvcore.nn.jit_handles import get_shape

    q, k, v = (get_shape(x) for x in inputs[:3])
    batch_heads = 1
    for d in q[:-2]:
        batch_heads *= d
    lq, dk, lk, dv = q[-2], q[-1], k[-2], v[-1]
    return batch_heads * lq * lk * (dk + dv)  # q @ k^T and attn @ v


def fvcore_macs(model: nn.Module, *inputs: torch.Tensor) -> float:
    """Total multiply-adds of model(*inputs) counted by fvcore with attention included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, inputs).set_op_handle("aten::scaled_dot_product_attention", _sdpa_macs)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return float(analysis.total())


def meta_macs(build: Callable[[], nn.Module], *shapes: tuple[int, ...], call: Callable | None = None) -> float:
    """Multiply-adds from torch's FlopCounterMode with the model and inputs on the meta device.

    `call(model, *inputs)` defaults to model(*inputs)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = build()
        inputs = [torch.empty(s) for s in shapes]
    with FlopCounterMode(display=False) as counter:
        (call or (lambda m, *x: m(*x)))(model, *inputs)
    return counter.get_total_flops() / 2


def parameter_table(model: nn.Module, max_depth: int = 2) -> str:
    """fvcore's parameter table (per-module parameter counts)."""
    from fvcore.nn import parameter_count_table

    return parameter_count_table(model, max_depth=max_depth)
