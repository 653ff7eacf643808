"""torchvision transforms v2 pipelines used by the recipes."""

from __future__ import annotations

import math

import torch
from torchvision.transforms import InterpolationMode, v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_normalized_float() -> list[v2.Transform]:
    return [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]


def random_resized_crop_flip(size: int, scale: tuple[float, float] = (0.2, 1.0), bilinear: bool = False) -> v2.Compose:
    """RandomResizedCrop + horizontal flip + ImageNet normalise: MAE pre-training (bicubic, scale (0.2, 1)),
    MoCo v3 / SimSiam linear classification (bilinear, scale (0.08, 1))."""
    mode = InterpolationMode.BILINEAR if bilinear else InterpolationMode.BICUBIC
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=scale, interpolation=mode, antialias=True),
        v2.RandomHorizontalFlip(),
        *_to_normalized_float(),
    ])


def pad_crop_flip(size: int, pad: int = 4) -> v2.Compose:
    """CIFAR-style training augmentation: resize to `size`, random crop of `size` after zero-padding `pad`
    pixels on every side, horizontal flip, normalise."""
    return v2.Compose([
        v2.Resize(size, antialias=True), v2.RandomCrop(size, padding=pad), v2.RandomHorizontalFlip(),
        *_to_normalized_float(),
    ])


def resize_only(size: int) -> v2.Compose:
    """Resize the short side to `size` and centre crop it (a no-op for images of that size), normalise:
    small-image evaluation, and training without augmentation."""
    return v2.Compose([v2.Resize(size, antialias=True), v2.CenterCrop(size), *_to_normalized_float()])


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


class RandomResizedCropTF:
    """TensorFlow-style RandomResizedCrop used by MAE's linear probe: one draw of area (scale) and
    log-uniform aspect ratio, the box clamped to the image (torchvision retries up to 10 times and then
    falls back to a centre crop instead)."""

    def __init__(self, size: int, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3)):
        self.size, self.scale, self.ratio = size, scale, ratio

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[-2:]
        area = h * w * float(torch.empty(1).uniform_(*self.scale))
        log_r = torch.empty(1).uniform_(math.log(self.ratio[0]), math.log(self.ratio[1]))
        aspect = math.exp(float(log_r))
        cw = min(max(int(round(math.sqrt(area * aspect))), 1), w)
        ch = min(max(int(round(math.sqrt(area / aspect))), 1), h)
        top = int(torch.randint(0, h - ch + 1, (1,)))
        left = int(torch.randint(0, w - cw + 1, (1,)))
        return v2.functional.resized_crop(img, top, left, ch, cw, [self.size, self.size],
                                          interpolation=InterpolationMode.BICUBIC, antialias=True)


def linear_probe_train(size: int) -> v2.Compose:
    """MAE linear-probe augmentation: TF-style RandomResizedCrop + flip + normalise."""
    return v2.Compose([RandomResizedCropTF(size), v2.RandomHorizontalFlip(), *_to_normalized_float()])


def finetune_train(size: int, auto_augment: str | None = "rand-m9-mstd0.5-inc1", re_prob: float = 0.25,
                   crop_min_scale: float = 0.08) -> v2.Compose:
    """DeiT/MAE fine-tuning augmentation from timm: RandomResizedCrop (bicubic), flip, RandAugment,
    normalise, random erasing (pixel mode, one box)."""
    from timm.data import create_transform

    # color_jitter=None as in MAE: timm's default (0.4, hue included) would apply whenever RandAugment is off
    tf = create_transform(size, is_training=True, scale=(crop_min_scale, 1.0), auto_augment=auto_augment,
                          interpolation="bicubic", color_jitter=None, re_prob=re_prob, re_mode="pixel", re_count=1,
                          mean=IMAGENET_MEAN, std=IMAGENET_STD)
    _patch_posterize(tf)
    return v2.Compose([v2.ToPILImage(), tf])


def _posterize(img, bits_to_keep, **_):
    from PIL import Image, ImageOps

    if bits_to_keep >= 8:
        return img
    if bits_to_keep <= 0:  # what Pillow < 12 returned for 0 bits; Pillow >= 12 raises instead
        return Image.new(img.mode, img.size)
    return ImageOps.posterize(img, bits_to_keep)


def _patch_posterize(tf) -> None:
    """timm's RandAugment asks for 0-bit posterize at magnitude 10 (reachable with mstd > 0), which current
    Pillow rejects; keep the old result (a black image) instead of failing the sample."""
    from timm.data.auto_augment import RandAugment

    for t in getattr(tf, "transforms", []):
        if isinstance(t, RandAugment):
            for op in t.ops:
                if op.name.startswith("Posterize"):
                    op.aug_fn = _posterize
