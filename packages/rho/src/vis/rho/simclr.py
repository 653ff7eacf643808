"""rho-SimCLR: NT-Xent (T = 0.1) between clips of the same video over the global batch (features of every
process gathered with gradient; the 2N x 2N similarity matrix without its diagonal), averaged over every pair
of clips (or, --pairs adjacent, the neighbouring ones as the shipped sequential code does); 3-layer projection
with BN (paper; --no-mlp-bn for the shipped config's behaviour)."""

from __future__ import annotations

import torch

from vis.core.contrastive import nt_xent_pair
from vis.core.engine.multiview_step import coupled_step
from vis.rho.model import Backward, RhoModel, projection_mlp


class RhoSimCLR(RhoModel):
    """Online encoder only: both clips of a pair are trained."""

    @classmethod
    def from_config(cls, backbone, cfg) -> RhoSimCLR:
        mlp = projection_mlp(backbone.num_features, cfg.mlp_dim, cfg.dim, 3, bn=cfg.mlp_bn)
        return cls(backbone, mlp, cfg.temperature, pairs=cfg.pairs)

    def pair_losses(self, z: list[torch.Tensor]) -> torch.Tensor:
        """NT-Xent of each unordered pair of clips taken (both directions averaged in it)."""
        pairs = sorted({tuple(sorted(p)) for p in self.view_pairs(len(z))})
        return torch.stack([nt_xent_pair(z[i], z[j], self.temperature) for i, j in pairs])

    def step(self, model, views: torch.Tensor, backward: Backward, sequential: bool = True) -> dict:
        v = views.shape[0]
        # optimised: the sum over query clips of each one's mean loss = V x the mean over pairs
        total = coupled_step(model, self, views, lambda z: v * self.pair_losses(z).mean(), backward, sequential)
        return {"loss": total / v}
