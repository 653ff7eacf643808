"""rho-BYOL: each clip's prediction (predictor on the online projection) regresses the momentum encoder's
projections of the other clips of its video: loss = mean over those keys of -cos(p, k) / T with T = 0.5, i.e.
-2 cos (BYOL's 2 - 2 cos up to a constant); 2-layer projection and predictor (hidden 4096, BN), SyncBN."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vis.core.engine.multiview_step import per_view_step
from vis.rho.model import Backward, RhoModel, projection_mlp


class RhoBYOL(RhoModel):
    """Online encoder + predictor, and the momentum copy of the encoder (the target network)."""

    @classmethod
    def from_config(cls, backbone, cfg) -> RhoBYOL:
        m = cls(backbone, projection_mlp(backbone.num_features, cfg.mlp_dim, cfg.dim, 2, bn=True), cfg.temperature,
                cfg.momentum, cfg.epochs)
        m.predictor = projection_mlp(cfg.dim, cfg.mlp_dim, cfg.dim, 2, bn=True)
        m.add_momentum_encoder()
        return m

    def online(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(self.encoder(x))

    def query_loss(self, p: torch.Tensor, targets: list[torch.Tensor]) -> torch.Tensor:
        p = F.normalize(p.float(), dim=1)
        return torch.stack([-(p * t).sum(1).mean() for t in targets]).mean() / self.temperature

    def step(self, model, views: torch.Tensor, backward: Backward, sequential: bool = True) -> dict:
        with torch.no_grad():
            keys = [F.normalize(self.momentum_encoder(v).float(), dim=1) for v in views]
        v = views.shape[0]
        loss = per_view_step(model, views, lambda k, p: self.query_loss(p, [keys[j] for j in range(v) if j != k]),
                             backward, sequential)
        return {"loss": loss / v}
