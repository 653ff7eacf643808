"""The representation-conditioned pixel generator (RCG section 3.3 with an ADM-style U-Net): noise
prediction under ADM's linear schedule, the representation replaced by a learned `fake_latent` with
probability 0.1 in training, and classifier-free guidance on the representation at sampling time."""

from __future__ import annotations

import torch
import torch.nn as nn

from vis.core.models.diffusion import EMA, GaussianDiffusion, adm_linear_betas
from vis.rcg.unet import UNet


class PixelGenerator(nn.Module):
    """U-Net + `fake_latent` (the unconditional representation) + their EMA copy + the diffusion."""

    def __init__(self, img_size: int, rep_dim: int, rep_drop_prob: float = 0.1, ema_decay: float = 0.9999,
                 diffusion_steps: int = 1000, **unet_kwargs):
        super().__init__()
        self.img_size, self.rep_dim, self.rep_drop_prob = img_size, rep_dim, rep_drop_prob
        self.unet = UNet(img_size, rep_dim, **unet_kwargs)
        self.fake_latent = nn.Parameter(torch.randn(1, rep_dim) * 0.02)
        self.ema = EMA(_Denoiser(self.unet, self.fake_latent), ema_decay)
        self.diffusion = GaussianDiffusion(adm_linear_betas(diffusion_steps), prediction="eps")

    def denoiser(self) -> nn.Module:
        return _Denoiser(self.unet, self.fake_latent)

    def forward(self, images: torch.Tensor, reps: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
                drop: torch.Tensor) -> dict[str, torch.Tensor]:
        """images in [0, 1]; drop [N] bool: use `fake_latent` for these samples."""
        reps = torch.where(drop[:, None], self.fake_latent.expand_as(reps), reps)
        loss = self.diffusion.loss(lambda x, tt: self.unet(x, tt, reps), images * 2 - 1, t, noise)
        return {"loss": loss, "rep_dropped": drop.float().mean()}

    @torch.no_grad()
    def sample(self, reps: torch.Tensor, steps: int = 250, eta: float = 1.0, cfg: float = 0.0, generator=None,
               use_ema: bool = True) -> torch.Tensor:
        """Images in [0, 1] conditioned on `reps` (None rows are not allowed; pass fake_latent for none).
        Guidance: e = e_c + cfg (e_c - e_u), e_u with `fake_latent`; cfg 0 is no guidance. Each x0 estimate is
        clipped to the pixel range, as ADM samples."""
        model = self.ema.module if use_ema else self.denoiser()
        n = reps.shape[0]

        def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            if cfg == 0:
                return model(x, t, reps)
            e = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([reps, model.fake_latent.expand_as(reps)]))
            e_c, e_u = e.chunk(2)
            return e_c + cfg * (e_c - e_u)

        x = self.diffusion.ddim_sample(eps, (n, 3, self.img_size, self.img_size), steps, eta, generator,
                                       reps.device, clip_x0=True)  # ADM's clip_denoised
        return ((x + 1) / 2).clamp(0, 1)


class _Denoiser(nn.Module):
    """The pair the EMA averages and sampling uses: the U-Net and the unconditional representation."""

    def __init__(self, unet: UNet, fake_latent: nn.Parameter):
        super().__init__()
        self.unet, self.fake_latent = unet, fake_latent

    def forward(self, x: torch.Tensor, t: torch.Tensor, reps: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t, reps)
