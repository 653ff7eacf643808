"""torchvision transforms v2 pipelines used by the recipes."""

from __future__ import annotations

import torch
from torchvision.transforms import InterpolationMode, v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_normalized_float() -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]


def random_resized_crop_flip(size: int, scale: tuple[float, float] = (0.2, 1.0)) -> v2.Compose:
    """MAE pre-training augmentation: RandomResizedCrop (bicubic) + horizontal flip + ImageNet normalise."""
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=scale, interpolation=InterpolationMode.BICUBIC, antialias=True),
        v2.RandomHorizontalFlip(),
        *_to_normalized_float(),
    ])


def center_crop(size: int, crop_pct: float = 0.875) -> v2.Compose:
    """Evaluation: resize the short side to size / crop_pct (bicubic), centre crop, normalise."""
    return v2.Compose([
        v2.Resize(int(size / crop_pct), interpolation=InterpolationMode.BICUBIC, antialias=True),
        v2.CenterCrop(size),
        *_to_normalized_float(),
    ])


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Undo the ImageNet normalisation of a [..., 3, H, W] tensor; returns values clamped to [0, 1]."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(3, 1, 1)
    return (x * std + mean).clamp(0, 1)
