"""rho-SwAV: swapped prediction between clips of the same video: clip j's code (Sinkhorn-Knopp over the
prototype scores of the global batch, epsilon 0.05, 3 iterations) is the target of softmax(clip k's scores /
0.1); prototypes (Linear 128 -> K, no bias) L2-normalised before every step and frozen during the first
epoch; 3-layer projection with (Sync)BN; every ordered pair of clips, or --pairs adjacent."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.contrastive import sinkhorn_knopp
from vis.core.engine.multiview_step import coupled_step
from vis.rho.model import Backward, RhoModel, projection_mlp


class RhoSwAV(RhoModel):
    """Online encoder + prototypes; forward gives each clip's prototype scores."""

    @classmethod
    def from_config(cls, backbone, cfg) -> RhoSwAV:
        m = cls(backbone, projection_mlp(backbone.num_features, cfg.mlp_dim, cfg.dim, 3, bn=True), cfg.temperature,
                pairs=cfg.pairs)
        m.prototypes = nn.Linear(cfg.dim, cfg.prototypes, bias=False)
        m.eps, m.iters, m.freeze_epochs = cfg.sinkhorn_eps, cfg.sinkhorn_iters, cfg.freeze_prototypes_epochs
        return m

    def online(self, x: torch.Tensor) -> torch.Tensor:
        return self.prototypes(F.normalize(self.encoder(x), dim=1))

    def swapped_loss(self, scores: list[torch.Tensor]) -> torch.Tensor:
        """Sum over query clips k of the mean over their pairs (k, j) of CE(code_j, softmax(scores_k / T))."""
        codes = [sinkhorn_knopp(s.detach(), self.eps, self.iters) for s in scores]
        pairs = self.view_pairs(len(scores))
        per_pair = torch.stack([-(codes[j] * F.log_softmax(scores[k].float() / self.temperature, 1)).sum(1).mean()
                                for k, j in pairs])
        return len(scores) * per_pair.mean()

    def step(self, model, views: torch.Tensor, backward: Backward, sequential: bool = True) -> dict:
        with torch.no_grad():
            self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))
        total = coupled_step(model, self, views, self.swapped_loss, backward, sequential)
        if float(self.progress) < self.freeze_epochs:
            self.prototypes.weight.grad = None  # frozen prototypes in the first epoch (SwAV)
        return {"loss": total / views.shape[0]}
