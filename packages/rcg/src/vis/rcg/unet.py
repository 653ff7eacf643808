"""An ADM-style U-Net (Dhariwal and Nichol, 2021) for pixel-space diffusion, conditioned on a representation:
a zero-initialised Linear(rep -> time embedding) is added to the timestep embedding where ADM adds its class
embedding (RCG section 3.3, App. B). Residual blocks with scale-shift norm, multi-head self-attention at the
chosen resolutions, strided-conv downsampling and nearest + conv upsampling."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.models.diffusion import sinusoidal_embedding


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(32 if ch % 32 == 0 else 1, ch)


def _zero(m: nn.Module) -> nn.Module:
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class ResBlock(nn.Module):
    """GN -> SiLU -> conv; GN scaled and shifted by the embedding -> SiLU -> dropout -> zero conv; + skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float):
        super().__init__()
        self.in_layers = nn.Sequential(_norm(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 2 * cout))
        self.out_norm = _norm(cout)
        self.out_layers = nn.Sequential(nn.SiLU(), nn.Dropout(dropout), _zero(nn.Conv2d(cout, cout, 3, padding=1)))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.in_layers(x)
        scale, shift = self.emb_layers(emb)[..., None, None].chunk(2, dim=1)
        h = self.out_layers(self.out_norm(h) * (1 + scale) + shift)
        return self.skip(x) + h


class Attention(nn.Module):
    """Self-attention over the H x W positions, heads of `head_channels`, zero-initialised output."""

    def __init__(self, ch: int, head_channels: int):
        super().__init__()
        self.heads = max(ch // head_channels, 1)
        self.norm = _norm(ch)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj = _zero(nn.Conv1d(ch, ch, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x).flatten(2)).reshape(n, 3, self.heads, c // self.heads, h * w).unbind(1)
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        return x + self.proj(out.transpose(-1, -2).reshape(n, c, h * w)).view(n, c, h, w)


class Sequence(nn.ModuleList):
    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock | Attention) else layer(x)
        return x


class UNet(nn.Module):
    """eps-prediction U-Net: forward(x [N, C, H, W] in [-1, 1], t [N], rep [N, rep_dim]) -> [N, C, H, W]."""

    def __init__(self, img_size: int, rep_dim: int, channels: int = 256,
                 channel_mult: tuple[int, ...] = (1, 1, 2, 2, 4, 4), num_res_blocks: int = 2,
                 attention_resolutions: tuple[int, ...] = (32, 16, 8),
                 head_channels: int = 64, dropout: float = 0.0, in_channels: int = 3):
        super().__init__()
        self.channels, emb = channels, 4 * channels
        self.time_embed = nn.Sequential(nn.Linear(channels, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.rep_embed = _zero(nn.Linear(rep_dim, emb))  # RCG: zero-init, so training starts unconditional
        self.input = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.down, skips, ch, res = nn.ModuleList(), [channels], channels, img_size
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [ResBlock(ch, channels * mult, emb, dropout)]
                ch = channels * mult
                if res in attention_resolutions:
                    layers.append(Attention(ch, head_channels))
                self.down.append(Sequence(layers))
                skips.append(ch)
            if level < len(channel_mult) - 1:
                self.down.append(Sequence([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                skips.append(ch)
                res //= 2
        self.middle = Sequence([ResBlock(ch, ch, emb, dropout), Attention(ch, head_channels),
                                ResBlock(ch, ch, emb, dropout)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [ResBlock(ch + skips.pop(), channels * mult, emb, dropout)]
                ch = channels * mult
                if res in attention_resolutions:
                    layers.append(Attention(ch, head_channels))
                if level > 0 and i == num_res_blocks:
                    layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(ch, ch, 3, padding=1)]
                    res *= 2
                self.up.append(Sequence(layers))
        self.out = nn.Sequential(_norm(ch), nn.SiLU(), _zero(nn.Conv2d(ch, in_channels, 3, padding=1)))

    def forward(self, x: torch.Tensor, t: torch.Tensor, rep: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(sinusoidal_embedding(t, self.channels)) + self.rep_embed(rep)
        h, hs = self.input(x), []
        hs.append(h)
        for block in self.down:
            h = block(h, emb)
            hs.append(h)
        h = self.middle(h, emb)
        for block in self.up:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)
