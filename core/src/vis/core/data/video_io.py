"""Reading frames out of video files (vis-core[video]): a small `VideoReader` protocol with a PyAV backend
(default: its wheels bundle FFmpeg) and an optional torchcodec backend.

Both readers number frames the same way, index = round(presentation time x average fps), and seek to the
keyframe before the first frame asked for, so a clip costs the frames from that keyframe to its last frame,
never the whole file. torchvision's video decoding is gone (removed in 0.28), so it is not a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch

Backend = Literal["pyav", "torchcodec"]
MISSING_FRAMES_TOLERATED = 2
"""Frames a file may lack at its end against its header (container frame counts are often off by one);
more, and the file is reported as truncated."""


@dataclass(frozen=True)
class VideoMeta:
    """What a reader knows before decoding: average frame rate, frame count and duration in seconds."""

    fps: float
    num_frames: int
    duration: float


class VideoReader(Protocol):
    """An open video file: `meta`, `get_frames(indices)` -> uint8 [T, H, W, 3] (RGB), `close()`."""

    meta: VideoMeta

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor: ...

    def close(self) -> None: ...


class TruncatedVideo(RuntimeError):
    """Frames the header promises are not in the file."""


class PyAVReader:
    """PyAV (FFmpeg) with frame-threaded decoding (thread_type AUTO; `threads` 0: FFmpeg's own count)."""

    def __init__(self, path: str, threads: int = 0):
        import av
        from av.video.reformatter import VideoReformatter

        self.path = path
        self.container = av.open(path)
        try:
            self.stream = self.container.streams.video[0]
        except IndexError:
            self.container.close()
            raise ValueError("no video stream") from None
        self.stream.thread_type = "AUTO"
        if threads:
            self.stream.thread_count = threads
        rate = self.stream.average_rate or self.stream.guessed_rate
        if not rate:
            self.container.close()
            raise ValueError("no frame rate in the video stream")
        fps = float(rate)
        tb = self.stream.time_base
        if self.stream.duration:
            duration = float(self.stream.duration * tb)
        else:
            duration = (self.container.duration or 0) / 1_000_000
        frames = self.stream.frames or int(round(duration * fps))
        if frames <= 0:
            self.container.close()
            raise ValueError("the video has no frames")
        self.meta = VideoMeta(fps=fps, num_frames=frames, duration=duration or frames / fps)
        self._start = self.stream.start_time or 0
        # one colour converter for every frame: frame.to_ndarray(format=...) builds a new one per frame, which
        # cost 50 ms a frame at 32 px, 700x the reused one's
        self._rgb = VideoReformatter()

    def _index(self, frame) -> int:
        return int(round(float((frame.pts - self._start) * self.stream.time_base) * self.meta.fps))

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        wanted = sorted(set(int(i) for i in indices))
        first, last = wanted[0], wanted[-1]
        if first > 0:  # to the keyframe at or before `first`; frames before it are decoded and dropped
            ts = int(first / self.meta.fps / self.stream.time_base) + self._start
            self.container.seek(ts, stream=self.stream, backward=True, any_frame=False)
        got: dict[int, np.ndarray] = {}
        need = set(wanted)
        for frame in self.container.decode(self.stream):
            if frame.pts is None:
                continue
            k = self._index(frame)
            if k in need:
                got[k] = self._rgb.reformat(frame, format="rgb24").to_ndarray()
            if k >= last:
                break
        return _assemble(indices, got, self.path)

    def close(self) -> None:
        self.container.close()


class TorchCodecReader:
    """torchcodec's VideoDecoder (needs a system FFmpeg and the torchcodec build for this torch)."""

    def __init__(self, path: str, threads: int = 0):
        from torchcodec.decoders import VideoDecoder

        self.path = path
        self.decoder = VideoDecoder(path, seek_mode="approximate", num_ffmpeg_threads=threads)
        m = self.decoder.metadata
        fps = float(m.average_fps)
        frames = int(m.num_frames or round((m.duration_seconds or 0) * fps))
        if frames <= 0:
            raise ValueError("the video has no frames")
        self.meta = VideoMeta(fps=fps, num_frames=frames, duration=float(m.duration_seconds or frames / fps))

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        wanted = sorted(set(int(i) for i in indices))
        ok = [i for i in wanted if i < self.meta.num_frames]
        batch = self.decoder.get_frames_at(ok)
        got = {i: f.permute(1, 2, 0).numpy() for i, f in zip(ok, batch.data, strict=True)}
        return _assemble(indices, got, self.path)

    def close(self) -> None:
        self.decoder = None


def _assemble(indices: Sequence[int], got: dict[int, np.ndarray], path: str) -> torch.Tensor:
    """Frames in the order asked for; an index past the last decoded frame takes that frame when at most
    MISSING_FRAMES_TOLERATED frames are missing (header counts are often one too high), else the file is
    truncated."""
    if not got:
        raise TruncatedVideo(f"no frame decoded at {sorted(set(indices))[:3]}...")
    have = sorted(got)
    out = []
    for i in indices:
        if i not in got:
            before = [k for k in have if k < i]
            if not before or i - before[-1] > MISSING_FRAMES_TOLERATED:
                raise TruncatedVideo(f"frame {i} cannot be decoded (last decoded frame {have[-1]})")
            got[i] = got[before[-1]]
        out.append(got[i])
    return torch.from_numpy(np.stack(out))


def backend_available(backend: Backend) -> bool:
    """Whether `backend` can be imported here (torchcodec needs FFmpeg libraries on the system)."""
    try:
        if backend == "pyav":
            import av  # noqa: F401
        else:
            import torchcodec.decoders  # noqa: F401
    except Exception:  # ImportError, or torchcodec's RuntimeError when FFmpeg is missing
        return False
    return True


def open_video(path: str, backend: Backend = "pyav", threads: int = 0) -> VideoReader:
    """Open `path` with the chosen backend (threads 0: the decoder's own choice)."""
    if backend == "pyav":
        return PyAVReader(path, threads)
    if backend == "torchcodec":
        return TorchCodecReader(path, threads)
    raise ValueError(f"unknown video backend '{backend}' (pyav | torchcodec)")


def read_clip_frames(path: str, indices: Sequence[int], backend: Backend = "pyav") -> torch.Tensor:
    """uint8 [T, H, W, 3] frames `indices` of one file, opened and closed here."""
    reader = open_video(path, backend)
    try:
        return reader.get_frames(indices)
    finally:
        reader.close()
