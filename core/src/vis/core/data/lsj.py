"""Large-scale jitter (Ghiasi et al., 2021) as ViTDet trains with it, the evaluation resize, and a seeded
dataset / collate for (image, target) pairs of variable size (padding happens once, in the model).

Training, in order: random horizontal flip; resize keeping the aspect so the image fits in (size x s)^2,
s ~ U(min, max); random crop to at most size x size (no padding here); boxes recomputed as the tight boxes of
the cropped masks; instances with an empty mask dropped. Test: the long side resized to `size`."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vis.core.data.loader import SeededDataset


def resize(image: torch.Tensor, target: dict, factor: float) -> tuple[torch.Tensor, dict]:
    """Scale image (bilinear, antialiased) and masks (nearest) by `factor`; boxes scaled alike."""
    h, w = image.shape[1:]
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    image = F.interpolate(image[None].float(), size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    target = dict(target)
    if target["masks"].numel():
        target["masks"] = F.interpolate(target["masks"][None].float(), size=size, mode="nearest")[0].byte()
    else:
        target["masks"] = target["masks"].new_zeros((0, *size))
    scale = torch.tensor([size[1] / w, size[0] / h] * 2)
    target["boxes"] = target["boxes"] * scale
    return image.clamp(0, 255).round().byte(), target


def tight_boxes(masks: torch.Tensor) -> torch.Tensor:
    """[N, H, W] masks -> [N, 4] xyxy boxes enclosing their pixels (zeros for an empty mask)."""
    if masks.numel() == 0:
        return torch.zeros(masks.shape[0], 4)
    masks = masks.bool()
    rows, cols = masks.any(2), masks.any(1)
    ar_h, ar_w = torch.arange(masks.shape[1]), torch.arange(masks.shape[2])
    y1 = torch.where(rows, ar_h, masks.shape[1]).amin(1)
    y2 = torch.where(rows, ar_h + 1, 0).amax(1)
    x1 = torch.where(cols, ar_w, masks.shape[2]).amin(1)
    x2 = torch.where(cols, ar_w + 1, 0).amax(1)
    return torch.stack([x1, y1, x2, y2], 1).float() * masks.flatten(1).any(1, keepdim=True)


def keep(target: dict, which: torch.Tensor) -> dict:
    return {k: v[which] if torch.is_tensor(v) and v.ndim and len(v) == len(which) else v for k, v in target.items()}


def large_scale_jitter(image: torch.Tensor, target: dict, size: int, scale_range: tuple[float, float]):
    """One LSJ draw (torch's global generator: call under a per-sample seed)."""
    if torch.rand(()) < 0.5:
        image, target = image.flip(-1), dict(target)
        target["masks"] = target["masks"].flip(-1)
        w = image.shape[-1]
        target["boxes"] = target["boxes"][:, [2, 1, 0, 3]] * torch.tensor([-1, 1, -1, 1]) + torch.tensor([w, 0, w, 0])
    s = scale_range[0] + (scale_range[1] - scale_range[0]) * float(torch.rand(()))
    h, w = image.shape[1:]
    image, target = resize(image, target, min(size * s / h, size * s / w))
    h, w = image.shape[1:]
    y0 = round(max(h - size, 0) * float(torch.rand(())))
    x0 = round(max(w - size, 0) * float(torch.rand(())))
    image = image[:, y0 : y0 + size, x0 : x0 + size]
    target["masks"] = target["masks"][:, y0 : y0 + size, x0 : x0 + size]
    target["boxes"] = tight_boxes(target["masks"])
    return image, keep(target, target["masks"].flatten(1).bool().any(1))


def eval_resize(image: torch.Tensor, target: dict, size: int):
    """Test-time: long side to `size` (shortest edge `size`, max size `size`); boxes and masks alike."""
    return resize(image, target, size / max(image.shape[1:]))


class DetectionDataset(SeededDataset):
    """SeededDataset over (image, target) pairs: `transform(image, target)` runs under the per-sample seed.
    Items {"image": float [3, H, W] in 0-1, "label": target, "index", "seed"}; `collate` keeps lists."""

    def apply(self, image: torch.Tensor, target: dict):
        if self.transform is not None:
            image, target = self.transform(image, target)
        return image.float() / 255, target

    @staticmethod
    def collate(items: list[dict]) -> dict:
        good = [it for it in items if "skipped" not in it]
        return {"image": [it["image"] for it in good], "label": [it["label"] for it in good],
                "index": torch.tensor([it["index"] for it in good], dtype=torch.int64),
                "seed": torch.tensor([it["seed"] for it in good], dtype=torch.int64),
                "skipped": [it["skipped"] for it in items if "skipped" in it]}
