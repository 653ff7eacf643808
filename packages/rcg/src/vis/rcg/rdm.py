"""The representation diffusion model (RDM, RCG section 3.2): a residual MLP that denoises representation
vectors, trained on the x0 (clean vector) target under LDM's linear schedule, with an EMA of its weights."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.models.diffusion import EMA, GaussianDiffusion, ldm_linear_betas, sinusoidal_embedding

TIME_EMBED_DIM = 256


def _zero(linear: nn.Linear) -> nn.Linear:
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


class ResBlock(nn.Module):
    """h = Linear(SiLU(LN(x))) + Linear(SiLU(t_emb)); x + ZeroLinear(Dropout(SiLU(LN(h))))."""

    def __init__(self, width: int, emb_dim: int, dropout: float = 0.0):
        super().__init__()
        self.in_layers = nn.Sequential(nn.LayerNorm(width, eps=1e-6), nn.SiLU(), nn.Linear(width, width))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, width))
        self.out_layers = nn.Sequential(nn.LayerNorm(width, eps=1e-6), nn.SiLU(), nn.Dropout(dropout),
                                        _zero(nn.Linear(width, width)))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return x + self.out_layers(self.in_layers(x) + self.emb_layers(emb))


class SimpleMLP(nn.Module):
    """RCG's RDM network: Linear(rep -> C), `depth` residual blocks conditioned on the timestep, then
    LN -> SiLU -> zero-initialised Linear(C -> rep). Full size: depth 12, width 1536 (62,721,280 parameters)."""

    def __init__(self, rep_dim: int = 256, width: int = 1536, depth: int = 12, dropout: float = 0.0):
        super().__init__()
        self.width = width
        self.time_embed = nn.Sequential(nn.Linear(width, TIME_EMBED_DIM), nn.SiLU(),
                                        nn.Linear(TIME_EMBED_DIM, TIME_EMBED_DIM))
        self.input_proj = nn.Linear(rep_dim, width)
        self.res_blocks = nn.ModuleList(ResBlock(width, TIME_EMBED_DIM, dropout) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width, eps=1e-6), nn.SiLU(), _zero(nn.Linear(width, rep_dim)))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(sinusoidal_embedding(t, self.width))
        h = self.input_proj(x)
        for block in self.res_blocks:
            h = block(h, emb)
        return self.out(h)


class RDM(nn.Module):
    """The network, its EMA copy and the diffusion (1000 steps, beta from sqrt-linspace(0.0015, 0.0195)^2,
    x0 prediction, plain MSE). `forward` is the training loss; `sample` draws with DDIM from the EMA."""

    def __init__(self, rep_dim: int = 256, width: int = 1536, depth: int = 12, dropout: float = 0.0,
                 ema_decay: float = 0.9999, steps: int = 1000):
        super().__init__()
        self.net = SimpleMLP(rep_dim, width, depth, dropout)
        self.ema = EMA(self.net, ema_decay)
        self.rep_dim = rep_dim
        self.diffusion = GaussianDiffusion(ldm_linear_betas(steps), prediction="x0")

    def forward(self, reps: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": self.diffusion.loss(self.net, reps, t, noise)}

    @torch.no_grad()
    def sample(self, n: int, steps: int = 250, eta: float = 1.0, generator=None, device="cpu") -> torch.Tensor:
        """n representations from the EMA weights (RCG: DDIM 250 steps, eta 1, no guidance or temperature)."""
        return self.diffusion.ddim_sample(self.ema.module, (n, self.rep_dim), steps, eta, generator, device)
