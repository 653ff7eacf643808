"""Multi-view augmentation for Siamese and contrastive methods: one pipeline per view, the views stacked
into one tensor [V, C, H, W] (a batch holds [N, V, C, H, W])."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torchvision.transforms import InterpolationMode, v2

from vis.core.data.transforms import _to_normalized_float

BLUR_SIGMA = (0.1, 2.0)


class Views:
    """Applies each pipeline to the same image and stacks the results; all views need the same size."""

    def __init__(self, *pipelines: Callable[[torch.Tensor], torch.Tensor]):
        if len(pipelines) < 2:
            raise ValueError("a multi-view transform needs at least two pipelines")
        self.pipelines = pipelines

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        return torch.stack([t(img) for t in self.pipelines])


def gaussian_blur(p: float, sigma: tuple[float, float] = BLUR_SIGMA) -> v2.Transform:
    """With probability p, a Gaussian blur of standard deviation ~ U(sigma) pixels (the kernel spans 3 sigma
    of the largest value: torchvision's tensor blur stands in for the original PIL radius blur)."""
    size = 2 * math.ceil(3 * sigma[1]) + 1
    return v2.RandomApply([v2.GaussianBlur(size, sigma=sigma)], p=p)


def contrastive_view(size: int, crop_min: float = 0.08, saturation: float = 0.2, blur: float = 0.5,
                     solarize: float = 0.0) -> v2.Compose:
    """RandomResizedCrop(size, scale (crop_min, 1), bilinear) -> ColorJitter(0.4, 0.4, saturation, 0.1) with
    p 0.8 -> grayscale p 0.2 -> Gaussian blur with p `blur` -> solarize (threshold 128) with p `solarize` ->
    horizontal flip -> ImageNet normalisation. On uint8 [C, H, W] images."""
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(crop_min, 1.0), interpolation=InterpolationMode.BILINEAR, antialias=True),
        v2.RandomApply([v2.ColorJitter(0.4, 0.4, saturation, 0.1)], p=0.8),
        v2.RandomGrayscale(p=0.2),
        gaussian_blur(blur),
        v2.RandomSolarize(threshold=128, p=solarize),
        v2.RandomHorizontalFlip(),
        *_to_normalized_float(),
    ])


def byol_views(size: int, crop_min: float = 0.08) -> Views:
    """MoCo v3's asymmetric pair (from BYOL): view 1 always blurred and never solarized, view 2 blurred with
    p 0.1 and solarized with p 0.2; colour jitter saturation 0.2."""
    return Views(contrastive_view(size, crop_min, 0.2, blur=1.0, solarize=0.0),
                 contrastive_view(size, crop_min, 0.2, blur=0.1, solarize=0.2))


def mocov2_views(size: int, crop_min: float = 0.2) -> Views:
    """SimSiam's pair: the MoCo v2 pipeline twice (saturation 0.4, blur p 0.5, no solarize)."""
    view = contrastive_view(size, crop_min, 0.4, blur=0.5, solarize=0.0)
    return Views(view, view)
