"""Training steps over several views (clips) of each sample, all at once or sequentially.

The model called as `model(views)` with views [V, N, ...] returns the online outputs [V, N, D], each view a
separate pass (BatchNorm statistics per view). The sequential step holds one view's activations at a time:
- per-view objectives (the loss of view k depends on its own online output and on detached targets: MoCo,
  BYOL): forward and backward view by view (SlowFast's CONTRASTIVE.SEQUENTIAL);
- coupled objectives (the loss couples the online outputs of all views: SimCLR, SwAV): a no-grad pass gives
  every view's output, the loss's gradient with respect to those outputs is taken once, then each view is
  forwarded again and back-propagated with its cached gradient (gradient caching). Both give the gradients of
  the all-at-once step; the coupled one costs one extra forward per view.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn

from vis.core.contrastive import bn_stats_kept

Backward = Callable[[torch.Tensor], None]


def per_view_step(model: nn.Module, views: torch.Tensor, view_loss: Callable[[int, torch.Tensor], torch.Tensor],
                  backward: Backward, sequential: bool = True) -> torch.Tensor:
    """Sum over views k of view_loss(k, online output of view k), back-propagated; returns the (detached) sum."""
    if not sequential:
        out = model(views)
        loss = sum(view_loss(k, out[k]) for k in range(views.shape[0]))
        backward(loss)
        return loss.detach()
    total = torch.zeros((), device=views.device)
    for k in range(views.shape[0]):
        loss = view_loss(k, model(views[k : k + 1])[0])
        backward(loss)
        total += loss.detach()
    return total


def coupled_step(model: nn.Module, module: nn.Module, views: torch.Tensor,
                 loss_fn: Callable[[list[torch.Tensor]], torch.Tensor], backward: Backward,
                 sequential: bool = True) -> torch.Tensor:
    """loss_fn(online outputs of every view), back-propagated; `module` is `model` unwrapped (the no-grad
    pass needs no DDP bookkeeping). Returns the detached loss."""
    if not sequential:
        loss = loss_fn(list(model(views)))
        backward(loss)
        return loss.detach()
    with torch.no_grad(), bn_stats_kept(module):
        cached = [module(views[k : k + 1])[0].detach().requires_grad_() for k in range(views.shape[0])]
    with torch.enable_grad():
        loss = loss_fn(cached)
        grads = torch.autograd.grad(loss, cached)
    for k in range(views.shape[0]):
        out = model(views[k : k + 1])[0]
        backward((out.float() * grads[k].float()).sum())  # d/dtheta of this sum = grads[k] . d out / d theta
    return loss.detach()
