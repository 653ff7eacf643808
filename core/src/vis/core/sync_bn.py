"""Synchronised BatchNorm on every device: torch's SyncBatchNorm on GPUs, and on CPU (gloo), where torch
and DDP refuse it, a BatchNorm that all-reduces its per-channel sums with autograd. With it two processes of
batch b normalise exactly like one process of batch 2b, so the distributed equivalence of the Siamese and
contrastive methods can be tested on CPU machines."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn

from vis.core.dist import all_reduce_grad


class CpuSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over the samples of all ranks for CPU tensors (same parameters, buffers and state-dict keys
    as BatchNorm*d); a plain BatchNorm in eval mode or in a single process."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.ndim < 2:
            raise ValueError(f"expected at least 2-D input, got {x.ndim}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = [0, *range(2, x.ndim)]
        c = x.shape[1]
        local = torch.tensor([float(x.numel() // c)], dtype=x.dtype)
        stats = all_reduce_grad(torch.cat([x.sum(dims), (x * x).sum(dims), local]))
        n = stats[-1]
        mean, var = stats[:c] / n, stats[c : 2 * c] / n - (stats[:c] / n) ** 2  # biased, as BN normalises
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                f = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - f).add_(mean.detach(), alpha=f)
                self.running_var.mul_(1 - f).add_(var.detach() * n / (n - 1), alpha=f)  # unbiased, as BN
        shape = [1, c] + [1] * (x.ndim - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Replace every BatchNorm*d of `module` (in place for children) by a synchronised one that keeps its
    parameter objects and buffers: torch's SyncBatchNorm on GPUs, CpuSyncBatchNorm on CPU."""
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, CpuSyncBatchNorm):
        new = CpuSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                               module.track_running_stats)
        if module.affine:
            new.weight, new.bias = module.weight, module.bias
        if module.track_running_stats:
            new.running_mean, new.running_var = module.running_mean, module.running_var
            new.num_batches_tracked = module.num_batches_tracked
        return new.train(module.training)
    for name, child in module.named_children():
        new = convert_sync_batchnorm(child, device)
        if new is not child:
            setattr(module, name, new)
    return module


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
