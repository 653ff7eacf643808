"""MoCoV3: a backbone with a projector (query branch) plus a predictor, a momentum copy of backbone and
projector (key branch), and a symmetric InfoNCE against the keys of the whole global batch (Chen, Xie and
He, 2021). Attribute names are the official ones, so a released file loads after removing `module.`."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.config import ResNetOptions, ViTOptions
from vis.core.losses import info_nce
from vis.core.models.backbone import build_backbone, head_name, replace_head
from vis.core.models.heads import mlp_head
from vis.core.models.momentum import momentum_copy


class MoCoV3(nn.Module):
    """`base_encoder` (backbone whose head is the projector), `momentum_encoder` (its EMA copy, never
    trained by gradients) and `predictor`. ViT: projector D -> mlp -> mlp -> dim and predictor dim -> mlp ->
    dim, both ending in BN without affine; ResNet: projector 2048 -> mlp -> dim (last BN), predictor
    dim -> mlp -> dim without last BN. Every head Linear has no bias."""

    def __init__(self, base_encoder: nn.Module, dim: int = 256, mlp_dim: int = 4096, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature
        width = base_encoder.num_features
        resnet = head_name(base_encoder) == "fc"
        replace_head(base_encoder, mlp_head([width, mlp_dim, dim] if resnet else [width, mlp_dim, mlp_dim, dim]))
        self.base_encoder = base_encoder
        self.momentum_encoder = momentum_copy(base_encoder)  # same initial weights, requires_grad False
        self.predictor = mlp_head([dim, mlp_dim, dim], last_bn=not resnet)

    def contrastive_loss(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """InfoNCE of q against the keys k of every rank, scaled by 2T as in the official code (the paper
        does not mention it; it sets the gradient scale the learning rates were tuned for)."""
        return info_nce(q, k, self.temperature) * (2 * self.temperature)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> dict[str, torch.Tensor]:
        """x1, x2: the two views [N, C, H, W]. Each view is its own pass, so BN statistics are per view.
        The momentum update is not done here: the training loop calls `ema_update_` after each step."""
        q1 = self.predictor(self.base_encoder(x1))
        q2 = self.predictor(self.base_encoder(x2))
        with torch.no_grad():
            k1 = self.momentum_encoder(x1)
            k2 = self.momentum_encoder(x2)
        loss = self.contrastive_loss(q1, k2) + self.contrastive_loss(q2, k1)
        return {"loss": loss}


def build_encoder(arch: str, img_size: int, vit: ViTOptions, resnet: ResNetOptions, conv_stem: bool = False,
                  stop_grad_conv1: bool = True) -> nn.Module:
    """The backbone of MoCo v3: a ViT with its initialisation, fixed [row, col] sin-cos positions and
    optionally a frozen random patch projection or a conv stem; or a ResNet with zero-initialised
    residual branches."""
    return build_backbone(arch, img_size, vit, resnet, pos_embed="sincos", sincos_order="mocov3", init="mocov3",
                          conv_stem=conv_stem, frozen_patch_embed=stop_grad_conv1)


def build_mocov3(cfg) -> MoCoV3:
    """The model a PretrainConfig (or any object with its fields) describes."""
    encoder = build_encoder(cfg.arch, cfg.input_size, cfg.vit, cfg.resnet, cfg.conv_stem, cfg.stop_grad_conv1)
    return MoCoV3(encoder, cfg.dim, cfg.mlp_dim, cfg.temperature)
