"""Video datasets and clip sampling (vis-core[video]).

A video dataset yields (VideoFile, label) without touching the file; the clip sampler, which runs inside
the per-sample RNG of `SeededDataset` (or a test loop), opens the file, draws clips, decodes the frames they
need in one pass and applies a frame-consistent transform to each clip. A missing, truncated or undecodable
file raises there, so it is skipped, named and counted like any unreadable sample.

Temporal sampling follows SlowFast / MAE-ST: a clip of `num_frames` frames spans
sampling_rate x num_frames x fps / target_fps source frames; training draws its start uniformly, testing
takes K evenly spaced starts; the frame indices are linspace(start, start + span - 1, num_frames),
clamped to the video and truncated to integers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from vis.core.data.video_io import Backend, open_video
from vis.core.errors import UserError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v"}


@dataclass(frozen=True)
class VideoFile:
    """A video not yet opened: what a video dataset yields in place of an image."""

    path: str


class VideoList(torch.utils.data.Dataset):
    """(VideoFile, label) pairs from a Kinetics-style CSV (`<path> <label>` per line, whitespace-separated,
    relative paths taken from the CSV's folder) or from a folder of class sub-folders."""

    def __init__(self, items: list[tuple[str, int]], source: str, num_classes: int | None = None):
        if not items:
            raise UserError("no videos listed", source, "expected `<path> <label>` lines or PATH/<class>/<video>")
        self.items, self.source = items, source
        self.num_classes = num_classes or max(label for _, label in items) + 1

    @classmethod
    def from_csv(cls, csv: str | Path, num_classes: int | None = None) -> VideoList:
        csv = Path(csv)
        if not csv.is_file():
            raise UserError("video list not found", str(csv), "give a folder with train.csv / val.csv / test.csv")
        items = []
        for n, line in enumerate(csv.read_text().splitlines(), 1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[1].lstrip("-").isdigit() or int(fields[1]) < 0:
                raise UserError(f"line {n} is not `<path> <label>`: {line.strip()[:80]!r}", str(csv),
                                "fix the line (paths with spaces are not supported by this format)")
            path = Path(fields[0])
            items.append((str(path if path.is_absolute() else csv.parent / path), int(fields[1])))
        return cls(items, str(csv), num_classes)

    @classmethod
    def from_folder(cls, root: str | Path) -> VideoList:
        root = Path(root)
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        items = [(str(f), label) for label, c in enumerate(classes) for f in sorted((root / c).rglob("*"))
                 if f.suffix.lower() in VIDEO_SUFFIXES]
        return cls(items, str(root), len(classes) or None)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[VideoFile, int]:
        path, label = self.items[i]
        return VideoFile(path), label

    def describe(self, i: int) -> str:
        return self.items[i][0]


@dataclass(frozen=True)
class ClipSpec:
    """Which frames make a clip: `num_frames` frames every `sampling_rate` frames at `target_fps`."""

    num_frames: int = 16
    sampling_rate: int = 4
    target_fps: float = 30.0

    def span(self, fps: float) -> float:
        """Source frames a clip covers at the video's own frame rate."""
        return self.sampling_rate * self.num_frames * fps / self.target_fps


def clip_frame_indices(start: float, span: float, num_frames: int, video_frames: int) -> list[int]:
    """linspace(start, start + span - 1, num_frames), clamped to [0, video_frames - 1], truncated."""
    idx = torch.linspace(start, start + span - 1, num_frames).clamp(0, video_frames - 1)
    return idx.long().tolist()


def random_start(span: float, video_frames: int) -> float:
    """Training: a start drawn uniformly from [0, max(video_frames - span, 0)] (torch's generator)."""
    return float(torch.rand(())) * max(video_frames - span, 0)


def uniform_start(clip_idx: int, num_clips: int, span: float, video_frames: int) -> float:
    """Testing: the clip_idx-th of num_clips evenly spaced starts (one clip: the middle)."""
    delta = max(video_frames - span, 0)
    if num_clips == 1:
        return delta / 2
    return clip_idx * math.floor(delta / (num_clips - 1))


class ClipSampler:
    """VideoFile -> clips: `repeats` random clips (training, repeated sampling from one decode), or every
    one of `temporal_views` x `spatial_views` test views. Each clip's uint8 frames [T, 3, H, W] go through
    `transform(frames, spatial_idx)`, which returns [C, T, H, W]; the result is [C, T, H, W] for a single
    clip, else [R, C, T, H, W] (test views ordered temporal-major)."""

    def __init__(self, clip: ClipSpec, transform: Callable[[torch.Tensor, int], torch.Tensor], repeats: int = 1,
                 temporal_views: int = 0, spatial_views: int = 1, backend: Backend = "pyav",
                 shuffle_frames: bool = False, threads: int = 1):
        self.clip, self.transform, self.repeats = clip, transform, repeats
        # one decoding thread per video: the loader's workers decode in parallel, and FFmpeg's own threads cost
        # more than they gain on short clips (1.8 ms a 24-frame 32 px video with one, 14 ms with its default)
        self.threads = threads
        self.temporal_views, self.spatial_views, self.backend = temporal_views, spatial_views, backend
        self.shuffle_frames = shuffle_frames

    def __call__(self, video: VideoFile) -> torch.Tensor:
        reader = open_video(video.path, self.backend, self.threads)
        try:
            n, span = reader.meta.num_frames, self.clip.span(reader.meta.fps)
            if self.temporal_views:
                views = [(uniform_start(k, self.temporal_views, span, n), s)
                         for k in range(self.temporal_views) for s in range(self.spatial_views)]
            else:
                views = [(start, -1) for start in self.training_starts(span, n)]
            indices = [clip_frame_indices(start, span, self.clip.num_frames, n) for start, _ in views]
            frames = reader.get_frames(sorted({i for clip in indices for i in clip}))
        finally:
            reader.close()
        position = {i: k for k, i in enumerate(sorted({i for clip in indices for i in clip}))}
        clips = []
        for clip_idx, (_, spatial) in zip(indices, views, strict=True):
            order = [position[i] for i in clip_idx]
            if self.shuffle_frames:  # a control without temporal order: frames in random order
                order = [order[j] for j in torch.randperm(len(order)).tolist()]
            clips.append(self.transform(frames[order].permute(0, 3, 1, 2), spatial))
        return clips[0] if len(clips) == 1 else torch.stack(clips)

    def training_starts(self, span: float, video_frames: int) -> list[float]:
        """Training clips' start frames: `repeats` independent uniform draws (subclasses change the rule)."""
        return [random_start(span, video_frames) for _ in range(self.repeats)]
