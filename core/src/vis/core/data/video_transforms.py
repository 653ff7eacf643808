"""Frame-consistent clip transforms: every frame of one clip gets the same crop, flip, RandAugment ops and
erasing box; clips drawn from the same video (repeated sampling, test views) get their own.

Each transform maps uint8 frames [T, 3, H, W] and a spatial view index (-1 when random) to a normalised
float clip [3, T, H, W] (mean 0.45, std 0.225 per channel, as in SlowFast and MAE-ST).
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torchvision import tv_tensors
from torchvision.transforms import InterpolationMode, v2

VIDEO_MEAN = (0.45, 0.45, 0.45)
VIDEO_STD = (0.225, 0.225, 0.225)


def _normalise() -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(VIDEO_MEAN, VIDEO_STD)]


class ClipCropFlip:
    """Pre-training (MAE-ST): RandomResizedCrop with area `scale` and aspect `ratio` (bilinear), horizontal
    flip, normalise. torchvision's v2 transforms draw once per call for a Video tensor, so all frames agree."""

    def __init__(self, size: int, scale: tuple[float, float] = (0.5, 1.0), ratio: tuple[float, float] = (0.75, 4 / 3),
                 hflip: float = 0.5):
        self.tf = v2.Compose([
            v2.RandomResizedCrop(size, scale=scale, ratio=ratio, interpolation=InterpolationMode.BILINEAR,
                                 antialias=True),
            v2.RandomHorizontalFlip(hflip), *_normalise(),
        ])

    def __call__(self, frames: torch.Tensor, spatial: int = -1) -> torch.Tensor:
        return self.tf(tv_tensors.Video(frames)).transpose(0, 1)


class SameForEveryFrame:
    """Apply a per-image pipeline (timm's fine-tuning transform: crop, flip, RandAugment, normalise, random
    erasing) to each frame under the same random state, so each frame sees the same draws: the clip gets one
    crop, one set of RandAugment ops and magnitudes, one erasing box. Afterwards the random state is where
    one image's draws leave it."""

    def __init__(self, image_transform):
        self.image_transform = image_transform
        self.to_pil = v2.ToPILImage()

    def __call__(self, frames: torch.Tensor, spatial: int = -1) -> torch.Tensor:
        states = random.getstate(), np.random.get_state(), torch.get_rng_state()
        out = []
        for frame in frames:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
            out.append(self.image_transform(self.to_pil(frame)))
        return torch.stack(out).transpose(0, 1)


def finetune_clip(size: int, auto_augment: str | None, re_prob: float, crop_min_scale: float,
                  hflip: float = 0.5) -> SameForEveryFrame | ClipCropFlip:
    """MAE-ST fine-tuning: RandomResizedCrop area (crop_min_scale, 1), aspect (3/4, 4/3), flip (p hflip), RandAugment
    (`auto_augment`, e.g. rand-m7-mstd0.5-inc1), normalise, random erasing (pixel mode, one box). Without
    RandAugment and erasing, the same crop and flip on the whole clip tensor at once (timm's ops are per PIL
    image, 4x slower on 16 frames)."""
    if not auto_augment and not re_prob:
        return ClipCropFlip(size, (crop_min_scale, 1.0), (3 / 4, 4 / 3), hflip)
    from timm.data import create_transform

    from vis.core.data.transforms import _patch_posterize

    tf = create_transform(size, is_training=True, scale=(crop_min_scale, 1.0), ratio=(3 / 4, 4 / 3),
                          hflip=hflip, auto_augment=auto_augment, interpolation="bilinear", color_jitter=None,
                          re_prob=re_prob, re_mode="pixel", re_count=1, mean=VIDEO_MEAN, std=VIDEO_STD)
    _patch_posterize(tf)
    return SameForEveryFrame(tf)


class ClipTestView:
    """Testing: resize the short side to `size`, then the spatial view's `size` x `size` crop along the long
    side (0 left/top, 1 centre, 2 right/bottom; -1 centre), normalise."""

    def __init__(self, size: int):
        self.size = size
        self.resize = v2.Resize(size, interpolation=InterpolationMode.BILINEAR, antialias=True)
        self.norm = v2.Compose(_normalise())

    def __call__(self, frames: torch.Tensor, spatial: int = -1) -> torch.Tensor:
        x = self.resize(tv_tensors.Video(frames))
        h, w = x.shape[-2:]
        k = 1 if spatial < 0 else spatial
        top = (h - self.size) * k // 2 if h > w else (h - self.size) // 2
        left = (w - self.size) * k // 2 if w >= h else (w - self.size) // 2
        x = x[..., top : top + self.size, left : left + self.size]
        return self.norm(tv_tensors.Video(x)).transpose(0, 1)
