"""Relational layers: one round of message exchange on a relational graph is a linear or convolutional layer
whose weight is masked block-wise by the graph's adjacency (with self-loops); a complete graph gives the
dense layer. The mask is a buffer, so the layer runs on any device (the original created it on CUDA).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def node_sizes(channels: int, n: int) -> np.ndarray:
    """Channels per node: sizes that differ by at most one, the larger ones on a fixed random permutation of
    the nodes (numpy seed 1, as in the paper's code)."""
    sizes = np.full(n, channels // n)
    sizes[: channels % n] += 1
    return np.random.RandomState(1).permutation(sizes)


def channel_mask(adj: np.ndarray, out_channels: int, in_channels: int) -> torch.Tensor:
    """[out, in] 0/1 mask: an output channel of node i reads the input channels of node j iff adj[i, j]."""
    n = adj.shape[0]
    out_node = np.repeat(np.arange(n), node_sizes(out_channels, n))
    in_node = np.repeat(np.arange(n), node_sizes(in_channels, n))
    return torch.from_numpy(np.ascontiguousarray(adj[np.ix_(out_node, in_node)])).float()


class RelationalLinear(nn.Linear):
    """nn.Linear with weight x mask; `density` is the mask's fraction of ones (what the MACs are scaled by).
    Initialised N(0, 0.01), bias 0, as the paper's MLPs."""

    def __init__(self, in_features: int, out_features: int, adj: np.ndarray, bias: bool = False):
        super().__init__(in_features, out_features, bias=bias)
        mask = channel_mask(adj, out_features, in_features)
        self.density = float(mask.mean())
        self.register_buffer("mask", mask.to(self.weight.device))
        nn.init.normal_(self.weight, std=0.01)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class RelationalConv2d(nn.Conv2d):
    """nn.Conv2d (groups 1) with weight x mask [out, in, 1, 1]. He-normal initialisation over the fan-out
    scaled by the mask density (each output reaches only that share of the next layer's inputs)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, adj: np.ndarray, stride: int = 1,
                 padding: int = 0, bias: bool = False):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        mask = channel_mask(adj, out_channels, in_channels)
        self.density = float(mask.mean())
        self.register_buffer("mask", mask[:, :, None, None].to(self.weight.device))
        fan_out = out_channels * self.kernel_size[0] * self.kernel_size[1] * self.density
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / fan_out))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def relationalize(model: nn.Module, adj: np.ndarray, select: Callable[[str, nn.Module], bool]) -> nn.Module:
    """Replace every Conv2d (groups 1) for which select(name, module) holds by a RelationalConv2d of the same
    shape on the graph `adj`, in place; returns the model."""
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            full = f"{parent_name}.{name}" if parent_name else name
            if type(child) is nn.Conv2d and child.groups == 1 and select(full, child):
                setattr(parent, name, RelationalConv2d(
                    child.in_channels, child.out_channels, child.kernel_size[0], adj, stride=child.stride[0],
                    padding=child.padding[0], bias=child.bias is not None).to(child.weight.device))
    return model


@torch.no_grad()
def masked_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass of one sample (input_shape without the batch), counting the
    unmasked weights only: Linear in x out x density, Conv2d output positions x out x in/groups x kh x kw x
    density (the paper's count; generic counters would report dense MACs). Runs on a meta-device copy."""
    if next(model.parameters()).device.type != "meta":
        model = copy.deepcopy(model).to("meta")
    total = 0.0

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal total
        density = getattr(module, "density", 1.0)
        if isinstance(module, nn.Linear):
            total += output.numel() * module.in_features * density
        else:
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * k * density

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        model.eval()(torch.empty(1, *input_shape, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    return int(round(total))


def match_width(build: Callable[[int], nn.Module], target: int, input_shape: tuple[int, ...], start: int) -> int:
    """The smallest width >= start whose masked MACs reach `target` (the dense baseline): FLOPs matching
    from above. MACs grow with the width, so a doubling search brackets it and bisection finds the first
    width that reaches it; then it steps down while a smaller width still does (uneven node sizes make the
    density, and so the MACs, wiggle slightly). Models are built on the meta device."""

    def macs(width: int) -> int:
        with torch.device("meta"):
            return masked_macs(build(width), input_shape)

    hi = start
    while macs(hi) < target:
        hi *= 2
    lo = max(start, hi // 2)
    while lo < hi:  # bisect to the first width that reaches the target
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if macs(mid) < target else (lo, mid)
    while hi > start and macs(hi - 1) >= target:  # a smaller width the wiggle lets through
        hi -= 1
    return hi
