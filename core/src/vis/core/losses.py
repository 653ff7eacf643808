"""Objectives shared by the contrastive and Siamese methods (MoCo v3, SimSiam, the rho-video methods)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vis.core.dist import all_gather_nograd, rank


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
