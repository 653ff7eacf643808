"""The clip pipelines of each stage, built from a config (vis-core's video data, MAE-ST's settings)."""

from __future__ import annotations

from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.video import ClipSampler, ClipSpec
from vis.core.data.video_transforms import ClipCropFlip, ClipTestView, finetune_clip
from vis.mae_st.config import ClipOptions


def clip_spec(clip: ClipOptions) -> ClipSpec:
    return ClipSpec(clip.num_frames, clip.sampling_rate, clip.target_fps)


def pretrain_data(data: str, clip: ClipOptions, size: int, crop_min_scale: float, seed: int) -> SeededDataset:
    """R random clips per video: RandomResizedCrop area (crop_min_scale, 1), aspect (3/4, 4/3), flip."""
    sampler = ClipSampler(clip_spec(clip), ClipCropFlip(size, (crop_min_scale, 1.0)), repeats=clip.repeat_aug,
                          backend=clip.video_backend)
    return SeededDataset(parse_data_spec(data).dataset("train"), sampler, seed)


def finetune_transform(cfg) -> ClipSampler:
    """R random clips per video through the fine-tuning augmentation (RandAugment, erasing, ...)."""
    transform = finetune_clip(cfg.input_size, cfg.aa, cfg.reprob, cfg.crop_min_scale, cfg.hflip)
    return ClipSampler(clip_spec(cfg.clip), transform,
                       repeats=cfg.clip.repeat_aug, backend=cfg.clip.video_backend, shuffle_frames=cfg.shuffle_frames)


def test_transform(clip: ClipOptions, size: int, temporal_views: int, spatial_views: int,
                   shuffle_frames: bool = False) -> ClipSampler:
    """temporal_views x spatial_views clips per video (one view: the middle clip, centre crop)."""
    return ClipSampler(clip_spec(clip), ClipTestView(size), temporal_views=temporal_views,
                       spatial_views=spatial_views, backend=clip.video_backend, shuffle_frames=shuffle_frames)
