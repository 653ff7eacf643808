"""Gaussian diffusion shared by representation and pixel generators (RCG's RDM, ADM-style U-Nets): beta
schedules, the forward process, x0 / epsilon conversions, a DDIM sampler (eta 0: deterministic, eta 1: the
DDPM-like stochastic sampler RCG uses) and an EMA of the weights with LitEma's warm-up."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn as nn


def ldm_linear_betas(steps: int = 1000, start: float = 0.0015, end: float = 0.0195) -> torch.Tensor:
    """LDM's "linear" schedule (RCG's RDM): beta_t = linspace(sqrt(start), sqrt(end), steps) ** 2, float64."""
    return torch.linspace(start**0.5, end**0.5, steps, dtype=torch.float64) ** 2


def adm_linear_betas(steps: int = 1000) -> torch.Tensor:
    """ADM / DDPM's linear schedule, scaled to `steps`: linspace(1e-4, 0.02) x 1000 / steps, float64."""
    scale = 1000 / steps
    return torch.linspace(scale * 1e-4, scale * 0.02, steps, dtype=torch.float64)


def per_sample_normal(seeds: torch.Tensor, shape: tuple[int, ...], device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal noise [N, *shape] where row i depends only on seeds[i] (the same under any world size
    or batch split)."""
    rows = [torch.randn(shape, generator=torch.Generator().manual_seed(int(s))) for s in seeds.tolist()]
    return torch.stack(rows).to(device)


def per_sample_steps(seeds: torch.Tensor, num_steps: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A training timestep in [0, num_steps) per sample, drawn from its seed (independent of the noise)."""
    steps = [torch.randint(num_steps, (1,), generator=torch.Generator().manual_seed(int(s) ^ 0x5EED)) for s in
             seeds.tolist()]
    return torch.cat(steps).to(device)


def randn(shape: tuple[int, ...], generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
    """Normal noise on the CPU from one generator, or row i from generator i (samples that do not depend on
    how they were batched or split over ranks)."""
    if isinstance(generator, list):
        return torch.stack([torch.randn(shape[1:], generator=g) for g in generator])
    return torch.randn(shape, generator=generator)


class GaussianDiffusion:
    """The forward process q(x_t | x_0) of a beta schedule and DDIM sampling from a network that predicts
    either the clean sample ("x0", RCG's RDM) or the noise ("eps", ADM)."""

    def __init__(self, betas: torch.Tensor, prediction: str = "x0"):
        if prediction not in ("x0", "eps"):
            raise ValueError(f"prediction must be x0 or eps, got {prediction}")
        self.betas = betas.double()
        self.num_steps = len(betas)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0)
        self.prediction = prediction

    def _coef(self, values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return values.to(like.device)[t].float().view(-1, *([1] * (like.ndim - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise."""
        a = self._coef(self.alphas_cumprod, t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def x0_and_eps(self, out: torch.Tensor, x_t: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(predicted x0, predicted noise) from the network output at x_t with abar = a."""
        if self.prediction == "x0":
            return out, (x_t - a.sqrt() * out) / (1 - a).sqrt()
        return (x_t - (1 - a).sqrt() * out) / a.sqrt(), out

    def loss(self, model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor, t: torch.Tensor,
             noise: torch.Tensor) -> torch.Tensor:
        """Plain MSE between the network output and its target (x0 or the noise): no VLB term, logvar 0."""
        out = model(self.q_sample(x0, t, noise), t)
        target = x0 if self.prediction == "x0" else noise
        return (out.float() - target.float()).pow(2).mean()

    def ddim_timesteps(self, num_steps: int) -> torch.Tensor:
        """LDM's uniform DDIM steps: 0, c, 2c, ... (c = T // num_steps), plus one."""
        c = self.num_steps // num_steps
        if c < 1:
            raise ValueError(f"{num_steps} sampling steps exceed the {self.num_steps} of the schedule")
        return torch.arange(0, self.num_steps, c)[:num_steps] + 1

    @torch.no_grad()
    def ddim_sample(self, model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], shape: tuple[int, ...],
                    num_steps: int, eta: float = 1.0, generator: torch.Generator | list[torch.Generator] | None = None,
                    device: torch.device | str = "cpu", x_T: torch.Tensor | None = None,
                    clip_x0: bool = False) -> torch.Tensor:
        """DDIM (Song et al.) from pure noise; sigma_t = eta sqrt((1 - a_prev)/(1 - a) (1 - a / a_prev)). With a
        CPU `generator` (or one per sample) the draw is reproducible on any device. Returns x at the first DDIM
        step (t = 1). `clip_x0` clamps each x0 estimate to [-1, 1] and recomputes the noise from it (ADM's
        clip_denoised for pixels; RCG's RDM does not clip)."""
        steps = self.ddim_timesteps(num_steps)
        abar = self.alphas_cumprod
        a_all = abar[steps]
        a_prev_all = torch.cat([abar[:1], abar[steps[:-1]]])
        x = randn(shape, generator).to(device) if x_T is None else x_T.to(device)
        for i in reversed(range(len(steps))):
            t = torch.full((shape[0],), int(steps[i]), device=device, dtype=torch.long)
            a = a_all[i].float().to(device)
            a_prev = a_prev_all[i].float().to(device)
            x0, eps = self.x0_and_eps(model(x, t).float(), x, a)
            if clip_x0:
                x0 = x0.clamp(-1, 1)
                eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
            sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
            if eta > 0:
                x = x + sigma * randn(shape, generator).to(device)
        return x


class EMA(nn.Module):
    """An exponential moving average of a module's parameters (buffers copied), with LitEma's warm-up:
    decay_n = min(decay, (1 + n) / (10 + n)) at the n-th update. A submodule of the training model, so it is
    checkpointed and resumed with it; sample from `ema.module`."""

    def __init__(self, module: nn.Module, decay: float = 0.9999):
        super().__init__()
        self.decay = decay
        self.module = copy.deepcopy(module).requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def train(self, mode: bool = True) -> EMA:
        return super().train(False)  # the averaged copy is only ever evaluated

    def current_decay(self) -> float:
        n = int(self.num_updates) + 1
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        """shadow <- d shadow + (1 - d) source over parameters; buffers (BN statistics) copied."""
        d = self.current_decay()
        self.num_updates += 1
        tgt, src = list(self.module.parameters()), list(source.parameters())
        torch._foreach_mul_(tgt, d)
        torch._foreach_add_(tgt, src, alpha=1.0 - d)
        for b_t, b_s in zip(self.module.buffers(), source.buffers(), strict=True):
            b_t.copy_(b_s)


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """ADM / LDM timestep embedding [N, dim]: cos of the first half of frequencies, then sin."""
    half = dim // 2
    freqs = torch.exp(-torch.log(torch.tensor(max_period)) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs.to(t.device)[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1) if dim % 2 else emb
