"""Per-sample random token masking with a fixed keep count (MAE, MAE-ST, FLIP patch dropout)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Masking:
    """Result of random masking: which tokens stay and how to undo the shuffle.

    ids_keep: [N, K] indices of kept tokens; ids_restore: [N, L] inverse permutation;
    mask: [N, L] with 0 = kept, 1 = removed, in the original token order.
    """

    ids_keep: torch.Tensor
    ids_restore: torch.Tensor
    mask: torch.Tensor


def num_kept(num_tokens: int, mask_ratio: float) -> int:
    """Number of visible tokens, int(L * (1 - r)) as in MAE (49 of 196 at r = 0.75)."""
    return int(num_tokens * (1 - mask_ratio))


def random_masking(noise: torch.Tensor, mask_ratio: float) -> Masking:
    """Keep the tokens with the smallest noise. noise: [N, L] uniform in [0, 1), one row per sample.

    The keep count is fixed, so shapes are static (argsort + gather; no boolean selection).
    """
    n, length = noise.shape
    keep = num_kept(length, mask_ratio)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    mask = torch.ones(n, length, device=noise.device)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return Masking(ids_keep=ids_shuffle[:, :keep], ids_restore=ids_restore, mask=mask)


def gather_tokens(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """x: [N, L, D], ids: [N, K] -> [N, K, D]."""
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def per_sample_noise(seeds: torch.Tensor, num_tokens: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Uniform noise [N, L] where row i depends only on seeds[i], so masks are independent of batch
    composition, world size and loader workers."""
    rows = []
    for s in seeds.tolist():
        g = torch.Generator().manual_seed(int(s))
        rows.append(torch.rand(num_tokens, generator=g))
    return torch.stack(rows).to(device)
