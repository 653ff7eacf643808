"""Objectives shared by the contrastive and Siamese methods (MoCo v3, SimSiam, the rho-video methods) and the
language-image ones (FLIP's symmetric InfoNCE over the global batch)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from vis.core.dist import all_gather_grad, all_gather_nograd, rank, world_size

ClipLossMode = Literal["naive", "local", "gather_grad"]


def info_nce(q: torch.Tensor, k: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE of queries q [N, D] against the keys k of every rank (gathered without gradient: the keys
    come from a momentum encoder): logits q k^T / T of shape [N, N x world], the positive of query i on rank
    r is key i + N r. Mean cross-entropy over this rank's queries; every rank needs the same N."""
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    keys = all_gather_nograd(k)
    logits = q @ keys.T / temperature
    labels = torch.arange(q.shape[0], device=q.device) + q.shape[0] * rank()
    return F.cross_entropy(logits.float(), labels)


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """-mean_i cos(p_i, z_i); the caller detaches z where the method stops the gradient."""
    return -F.cosine_similarity(p, z, dim=1).mean()


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def clip_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
              mode: ClipLossMode = "local") -> torch.Tensor:
    """Symmetric InfoNCE over the global batch (CLIP, FLIP): logits = s I T^T between the L2-normalised
    features of every rank, loss = (CE over rows + CE over columns) / 2 with the diagonal as labels.

    Every mode gives the loss of one process holding the whole global batch (averaged over ranks, as the
    Trainer logs it) and, under DDP's gradient averaging, its gradients:
    "naive": features gathered without gradient with this rank's own slice put back, the full N x N logits on
    every rank (O(N^2) memory); the gradient into the own slice is scaled by the world size, since each rank
    back-propagates only through its own slice and DDP averages. "gather_grad": the same logits with features
    gathered with gradient (every rank's gradients reach every rank). "local": only this rank's rows and columns against
    the gathered features (labels offset by rank x n), gathered with gradient: linear memory, the default."""
    image, text = F.normalize(image.float(), dim=-1), F.normalize(text.float(), dim=-1)
    n, world = image.shape[0], world_size()
    if mode == "naive" and world > 1:
        all_image, all_text = all_gather_nograd(image.detach()), all_gather_nograd(text.detach())
        image, text = _ScaleGrad.apply(image, float(world)), _ScaleGrad.apply(text, float(world))
        all_image = torch.cat([all_image[: rank() * n], image, all_image[(rank() + 1) * n :]])
        all_text = torch.cat([all_text[: rank() * n], text, all_text[(rank() + 1) * n :]])
    else:
        all_image, all_text = all_gather_grad(image), all_gather_grad(text)
    scale = logit_scale.float()
    if mode == "local":
        labels = torch.arange(n, device=image.device) + n * rank()
        loss_i = F.cross_entropy(scale * image @ all_text.T, labels)
        loss_t = F.cross_entropy(scale * text @ all_image.T, labels)
    else:
        logits = scale * all_image @ all_text.T
        labels = torch.arange(logits.shape[0], device=image.device)
        loss_i, loss_t = F.cross_entropy(logits, labels), F.cross_entropy(logits.T, labels)
    return (loss_i + loss_t) / 2
