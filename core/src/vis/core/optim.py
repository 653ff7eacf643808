"""Parameter groups (weight-decay rule, layer-wise lr decay), LARS, and per-iteration schedules."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
import torch.nn as nn


def param_groups(
    model: nn.Module,
    weight_decay: float,
    no_decay: Iterable[str] = (),
    layer_id: Callable[[str], int] | None = None,
    num_layers: int = 0,
    layer_decay: float = 1.0,
) -> list[dict]:
    """AdamW groups: parameters with one dimension, names ending in '.bias', or names in `no_decay` get no
    weight decay (so MAE's 3-D cls/mask tokens are decayed); frozen parameters are left out. With
    `layer_id`, each group gets lr_scale = layer_decay ** (num_layers - id) (BEiT rule)."""
    no_decay = set(no_decay)
    groups: dict[tuple[int, bool], dict] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decay = not (p.ndim <= 1 or name.endswith(".bias") or name.split(".")[-1] in no_decay or name in no_decay)
        lid = layer_id(name) if layer_id else num_layers
        key = (lid, decay)
        if key not in groups:
            groups[key] = {
                "params": [], "names": [], "weight_decay": weight_decay if decay else 0.0,
                "lr_scale": layer_decay ** (num_layers - lid) if layer_id else 1.0,
                "name": (f"layer{lid}_" if layer_id else "") + ("decay" if decay else "no_decay"),
            }
        groups[key]["params"].append(p)
        groups[key]["names"].append(name)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], not k[1]))]


def vit_layer_id(name: str, num_layers: int, prefix: str = "") -> int:
    """Layer index for layer-wise decay: embeddings 0, blocks.k -> k + 1, everything after -> num_layers."""
    name = name.removeprefix(prefix)
    if name in ("cls_token", "pos_embed", "mask_token") or name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return num_layers


def warmup_cosine(epoch: float, base: float, final: float, warmup: float, total: float) -> float:
    """Linear warm-up from 0 to `base` over `warmup` epochs, then a half cosine from `base` to `final`."""
    if epoch < warmup:
        return base * epoch / warmup
    progress = (epoch - warmup) / max(total - warmup, 1e-12)
    return final + (base - final) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def effective_lr(blr: float, lr: float | None, global_batch: int) -> float:
    """lr = blr * global batch / 256 unless an absolute lr is given."""
    return lr if lr is not None else blr * global_batch / 256


class LARS(torch.optim.Optimizer):
    """SGD with momentum and layer-wise trust ratio (You et al.); parameters with ndim <= 1 (biases, norms)
    get neither weight decay nor adaptation, as in MoCo v3 and MAE's linear probe. Written here because no
    maintained library ships this exact variant (apex's LARC differs in how it treats weight decay)."""

    def __init__(self, params, lr: float = 0.0, weight_decay: float = 0.0, momentum: float = 0.9,
                 trust_coefficient: float = 0.001):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      trust_coefficient=trust_coefficient))

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                dp = p.grad
                if p.ndim > 1:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    p_norm, u_norm = torch.norm(p), torch.norm(dp)
                    q = torch.where(
                        (p_norm > 0) & (u_norm > 0), g["trust_coefficient"] * p_norm / u_norm, torch.ones_like(p_norm)
                    )
                    dp = dp.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])
