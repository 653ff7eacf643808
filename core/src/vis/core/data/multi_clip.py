"""rho clips per video for temporally-persistent self-supervision (Feichtenhofer et al., CVPR 2021, section 3).

Each of the rho clip starts is drawn independently and uniformly over the whole video (clips may overlap:
"global temporal sampling"); optional bounds on the gap between consecutive clips (the long-spanned ablation)
are met by redrawing, keeping the least-violating draw when none fits. The clips are sorted by time and
each gets its own crop, flip, colour jitter, grayscale and blur, identical for every frame of the clip.
rho = 1 gives two differently augmented views of one temporal clip.
"""

from __future__ import annotations

import math

import torch
from torchvision import tv_tensors
from torchvision.transforms import InterpolationMode, v2

from vis.core.data.video import ClipSampler, ClipSpec, random_start
from vis.core.data.video_io import Backend
from vis.core.data.video_transforms import VIDEO_MEAN, VIDEO_STD
from vis.core.data.views import BLUR_SIGMA

GAP_TRIES = 100 * 100  # SlowFast's get_multiple_start_end_idx: 100 x 100 redraws


def gap_violation(starts: list[float], gap_min: float, gap_max: float) -> float:
    """Total amount (in frames) by which consecutive sorted starts break [gap_min, gap_max]."""
    s = sorted(starts)
    gaps = [b - a for a, b in zip(s[:-1], s[1:], strict=True)]
    return sum(max(gap_min - g, 0.0) + max(g - gap_max, 0.0) for g in gaps)


def multi_clip_starts(rho: int, span: float, video_frames: int, gap_min: float = 0.0,
                      gap_max: float = math.inf) -> list[float]:
    """rho sorted clip starts, each uniform in [0, max(video_frames - span, 0)]; with gap bounds (source
    frames between consecutive starts) redrawn up to GAP_TRIES times, else the least-violating draw."""
    best, best_v = None, math.inf
    for _ in range(GAP_TRIES if rho > 1 and (gap_min > 0 or gap_max < math.inf) else 1):
        starts = sorted(random_start(span, video_frames) for _ in range(rho))
        v = gap_violation(starts, gap_min, gap_max)
        if v < best_v:
            best, best_v = starts, v
        if v == 0:
            break
    return best


class MultiClipSampler(ClipSampler):
    """VideoFile -> [max(rho, 2), C, T, H, W]: rho clips at independent random times (rho = 1: one clip
    twice), each through `transform` with its own random draws. Gaps are in seconds of video."""

    def __init__(self, clip: ClipSpec, transform, rho: int = 2, gap_min_s: float = 0.0, gap_max_s: float = math.inf,
                 backend: Backend = "pyav"):
        super().__init__(clip, transform, repeats=max(rho, 2), backend=backend)
        self.rho, self.gap_min_s, self.gap_max_s = rho, gap_min_s, gap_max_s

    def training_starts(self, span: float, video_frames: int) -> list[float]:
        fps = span * self.clip.target_fps / (self.clip.sampling_rate * self.clip.num_frames)  # the video's own
        starts = multi_clip_starts(self.rho, span, video_frames, self.gap_min_s * fps, self.gap_max_s * fps)
        return starts * 2 if self.rho == 1 else starts


class ContrastiveClipView:
    """One clip's augmentation (SlowFast contrastive configs): divide by 255 -> ColorJitter(strength x
    (0.8, 0.8, 0.8, 0.2)) with p `jitter_p` -> grayscale p `gray_p` -> Gaussian blur, sigma U(`blur_sigma`)
    pixels of the decoded frames, with p `blur_p` -> normalise (0.45, 0.225) -> area RandomResizedCrop(size,
    `scale`, aspect [3/4, 4/3]) -> horizontal flip. torchvision's v2 transforms draw once per call on a Video
    tensor, so every frame of the clip gets the same draws; each call (each clip) draws anew."""

    def __init__(self, size: int, scale: tuple[float, float] = (0.2, 0.766), strength: float = 0.75,
                 jitter_p: float = 0.8, gray_p: float = 0.2, blur_p: float = 0.5,
                 blur_sigma: tuple[float, float] = BLUR_SIGMA):
        b = 0.8 * strength
        blur = 2 * math.ceil(3 * blur_sigma[1]) + 1
        self.tf = v2.Compose([
            v2.ToDtype(torch.float32, scale=True),
            v2.RandomApply([v2.ColorJitter(b, b, b, min(0.2 * strength, 0.5))], p=jitter_p),
            v2.RandomGrayscale(p=gray_p),
            v2.RandomApply([v2.GaussianBlur(blur, sigma=blur_sigma)], p=blur_p),
            v2.Normalize(VIDEO_MEAN, VIDEO_STD),
            v2.RandomResizedCrop(size, scale=scale, ratio=(0.75, 4 / 3), interpolation=InterpolationMode.BILINEAR,
                                 antialias=True),
            v2.RandomHorizontalFlip(),
        ])

    def __call__(self, frames: torch.Tensor, spatial: int = -1) -> torch.Tensor:
        return self.tf(tv_tensors.Video(frames)).transpose(0, 1)
