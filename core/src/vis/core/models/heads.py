"""MLP projectors and predictors of the Siamese and contrastive methods (MoCo v3, SimSiam, BYOL-style)."""

from __future__ import annotations

from typing import Literal

import torch.nn as nn

LastBias = Literal["none", "trainable", "frozen"]


def mlp_head(dims: list[int], last_bn: bool = True, hidden_bias: bool = False,
             last_bias: LastBias = "none", bn: bool = True) -> nn.Sequential:
    """Linear layers dims[0] -> dims[1] -> ... -> dims[-1]; each hidden layer is Linear -> BatchNorm1d ->
    ReLU, the last Linear is followed by BatchNorm1d(affine=False) when `last_bn`. Indices of the Sequential
    match the official heads (e.g. 0, 1, 3, 4, 6, 7 for three layers). last_bias="frozen" keeps a bias that is
    never trained (SimSiam re-uses torchvision's `fc` there: its bias stays at the random init, harmless
    because a BN follows). bn=False: hidden layers are Linear (with bias) -> ReLU (rho-MoCo's projection)."""
    if len(dims) < 2:
        raise ValueError(f"an MLP head needs at least an input and an output width, got {dims}")
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        last = i == len(dims) - 2
        linear = nn.Linear(d_in, d_out, bias=(last_bias != "none") if last else (hidden_bias or not bn))
        layers.append(linear)
        if not last:
            layers += [nn.BatchNorm1d(d_out), nn.ReLU(inplace=True)] if bn else [nn.ReLU(inplace=True)]
        else:
            if last_bias == "frozen":
                linear.bias.requires_grad_(False)
            if last_bn:
                layers.append(nn.BatchNorm1d(d_out, affine=False))
    return nn.Sequential(*layers)
