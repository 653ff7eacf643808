"""rho-MoCo: each clip's query is contrasted with the momentum keys of the other clips of its video (one logit
row per positive: [q.k+, q.queue] / T, target 0) against a queue of 65536 keys to which every clip's key is
added after the step (multi-view enqueue); keys through shuffle-BN; the 3-layer projection has no BN; no
update before the queue has been filled once."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vis.core.contrastive import KeyQueue, shuffled_forward
from vis.core.engine.multiview_step import per_view_step
from vis.rho.model import Backward, RhoModel, projection_mlp


class RhoMoCo(RhoModel):
    """Online encoder with a no-BN 3-layer projection, its momentum copy, and the key queue."""

    @classmethod
    def from_config(cls, backbone, cfg) -> RhoMoCo:
        m = cls(backbone, projection_mlp(backbone.num_features, cfg.mlp_dim, cfg.dim, 3, bn=False), cfg.temperature,
                cfg.momentum, cfg.epochs)
        m.add_momentum_encoder()
        m.queue = KeyQueue(cfg.queue_len, cfg.dim)
        return m

    @torch.no_grad()
    def keys(self, views: torch.Tensor) -> list[torch.Tensor]:
        return [F.normalize(shuffled_forward(self.momentum_encoder, v), dim=1) for v in views]

    def query_loss(self, q: torch.Tensor, positives: list[torch.Tensor]) -> torch.Tensor:
        """Mean over the positives of CE([q.k+, q.queue] / T, 0)."""
        q = F.normalize(q.float(), dim=1)
        neg = q @ self.queue.keys.T.float()
        logits = torch.cat([torch.cat([(q * k).sum(1, keepdim=True), neg], 1) for k in positives]) / self.temperature
        return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long, device=q.device))

    def step(self, model, views: torch.Tensor, backward: Backward, sequential: bool = True) -> dict:
        keys = self.keys(views)
        v = views.shape[0]
        others = lambda k: [keys[j] for j in range(v) if j != k]
        if not bool(self.queue.filled):  # the queue holds random vectors yet: no update (reference item 17)
            with torch.no_grad():
                loss = sum(self.query_loss(self.online(views[k]), others(k)) for k in range(v))
        else:
            loss = per_view_step(model, views, lambda k, q: self.query_loss(q, others(k)), backward, sequential)
        self.queue.enqueue(torch.cat(keys))
        return {"loss": loss / v, "queue_filled": self.queue.filled.float()}
