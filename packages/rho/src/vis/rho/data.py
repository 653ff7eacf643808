"""The clip pipelines of each stage, built from a config (vis-core's video data with the rho settings)."""

from __future__ import annotations

import math

from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.multi_clip import ContrastiveClipView, MultiClipSampler
from vis.core.data.video import ClipSampler, ClipSpec
from vis.core.data.video_transforms import ClipCropFlip, ClipTestView
from vis.rho.config import ClipOptions


def clip_spec(clip: ClipOptions) -> ClipSpec:
    return ClipSpec(clip.num_frames, clip.sampling_rate, clip.target_fps)


def pretrain_data(cfg) -> SeededDataset:
    """rho clips per video at independent random times, each with its own crop, flip and colour draws."""
    view = ContrastiveClipView(cfg.input_size, tuple(cfg.crop_scale), cfg.color_strength, gray_p=cfg.grayscale,
                               blur_sigma=tuple(cfg.blur_sigma))
    sampler = MultiClipSampler(clip_spec(cfg.clip), view, cfg.rho, cfg.gap_min,
                               math.inf if cfg.gap_max is None else cfg.gap_max, backend=cfg.clip.video_backend)
    return SeededDataset(parse_data_spec(cfg.data).dataset("train"), sampler, cfg.seed)


def classify_train_data(cfg) -> SeededDataset:
    """One random clip per video: area RandomResizedCrop (crop_scale, aspect 3/4..4/3) and flip."""
    sampler = ClipSampler(clip_spec(cfg.clip), ClipCropFlip(cfg.input_size, tuple(cfg.crop_scale)),
                          backend=cfg.clip.video_backend)
    return SeededDataset(parse_data_spec(cfg.data).dataset("train"), sampler, cfg.seed)


def test_views(cfg) -> ClipSampler:
    """temporal_views evenly spaced clips x spatial_views crops (left / centre / right) of the short side."""
    return ClipSampler(clip_spec(cfg.clip), ClipTestView(cfg.input_size), temporal_views=cfg.temporal_views,
                       spatial_views=cfg.spatial_views, backend=cfg.clip.video_backend)
