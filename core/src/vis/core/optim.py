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
    decays: Callable[[str, torch.Tensor], bool] | None = None,
) -> list[dict]:
    """AdamW groups: parameters with one dimension, names ending in '.bias', or names in `no_decay` get no
    weight decay (so MAE's 3-D cls/mask tokens are decayed); `decays(name, param)` replaces that rule when
    given. Frozen parameters are left out. With `layer_id`, each group gets lr_scale = layer_decay **
    (num_layers - id) (BEiT rule)."""
    no_decay = set(no_decay)
    groups: dict[tuple[int, bool], dict] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if decays is not None:
            decay = decays(name, p)
        else:
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


def uniform_groups(model: nn.Module, weight_decay: float, fixed_lr: Iterable[str] = ()) -> list[dict]:
    """One group of every trainable parameter with the same weight decay (SimSiam's SGD and MoCo v3's AdamW
    decay biases and norms too), except that parameters under a prefix in `fixed_lr` (SimSiam's
    `predictor`) form a group whose lr the schedule never changes (`fix_lr`)."""
    fixed = tuple(f"{p}." for p in fixed_lr)
    groups = {False: {"params": [], "names": [], "weight_decay": weight_decay, "name": "all"},
              True: {"params": [], "names": [], "weight_decay": weight_decay, "name": "fixed_lr", "fix_lr": True}}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups[name.startswith(fixed)]["params"].append(p)
            groups[name.startswith(fixed)]["names"].append(name)
    return [g for g in groups.values() if g["params"]]


def vit_layer_id(name: str, num_layers: int, prefix: str = "") -> int:
    """Layer index for layer-wise decay: embeddings 0, blocks.k -> k + 1, everything after -> num_layers."""
    name = name.removeprefix(prefix)
    if name in ("cls_token", "mask_token") or name.startswith(("patch_embed", "pos_embed")):
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


def warmup_step(epoch: float, base: float, warmup: float, total: float, steps: tuple[float, ...],
                factor: float = 0.001, gamma: float = 0.1) -> float:
    """Linear warm-up from `base` x `factor` over `warmup` epochs, then `base` x gamma^(steps passed), with
    the steps given as fractions of `total` (detectron2's WarmupParamScheduler + MultiStepParamScheduler)."""
    drops = sum(epoch >= s * total for s in steps)
    lr = base * gamma**drops
    if epoch < warmup:
        lr *= factor + (1 - factor) * epoch / warmup
    return lr


def effective_lr(blr: float, lr: float | None, global_batch: int) -> float:
    """lr = blr * global batch / 256 unless an absolute lr is given."""
    return lr if lr is not None else blr * global_batch / 256


class _TrustRatioSGD(torch.optim.Optimizer):
    """Heavy-ball SGD on a per-parameter direction d = self._direction(p, group) (each variant below defines
    it): mu <- momentum * mu + d; p <- p - lr * mu."""

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
                dp = self._direction(p, g)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


class LARS(_TrustRatioSGD):
    """SGD with momentum and layer-wise trust ratio (You et al.) as in MoCo v3 and MAE's linear probe:
    for ndim > 1, d = g + wd p scaled by trust * |p| / |d| (when both norms are > 0); parameters with
    ndim <= 1 (biases, norms) get neither weight decay nor adaptation. Written here because no maintained
    library ships this exact variant."""

    def _direction(self, p: torch.Tensor, g: dict) -> torch.Tensor:
        dp = p.grad
        if p.ndim <= 1:
            return dp
        dp = dp.add(p, alpha=g["weight_decay"])
        p_norm, u_norm = torch.norm(p), torch.norm(dp)
        q = torch.where((p_norm > 0) & (u_norm > 0), g["trust_coefficient"] * p_norm / u_norm, torch.ones_like(p_norm))
        return dp.mul(q)


class LARC(_TrustRatioSGD):
    """apex's LARC (clip=False) over SGD with momentum, as in SimSiam's linear evaluation: EVERY parameter,
    biases included, gets d = (g + wd p) * trust * |p| / (|g| + wd |p| + eps) when |p| > 0 and |g| > 0,
    and the plain gradient otherwise (no weight decay either), so a zero-initialised bias takes one full-lr
    step first. Own code: apex is not installable from PyPI under that name."""

    eps = 1e-8

    def _direction(self, p: torch.Tensor, g: dict) -> torch.Tensor:
        dp, wd = p.grad, g["weight_decay"]
        p_norm, g_norm = torch.norm(p), torch.norm(dp)
        rate = g["trust_coefficient"] * p_norm / (g_norm + p_norm * wd + self.eps)
        adapted = dp.add(p, alpha=wd).mul(rate)
        return torch.where((p_norm > 0) & (g_norm > 0), adapted, dp)
