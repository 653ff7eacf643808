"""Built-in video data for demos and tests: coloured shapes moving over a photo, written as real MP4 files.

Each video is 24 frames of 32 x 32 pixels at 30 fps: one or two shapes (square or disc, random size) move
in a random direction at 1 to 2 pixels per frame, wrapping around the borders, over a still background cut
from one of scikit-image's photographs, while their colour fades from one colour of a pair to the other
over 6 frames, then jumps back and fades again (a sawtooth). The class is the fade: red to blue, blue to
red, green to magenta, magenta to green. Any clip shows several fades, so the class is in every clip, but
only in the order of its frames: with the frames shuffled the colour pair is left and its order lost (at
best 50% accuracy against 25% chance). The short period puts the direction into consecutive frames, where
a 2-frame space-time patch sees it (one fade over the whole video, v2, was not learned by the tiny ViT).
Splits: 400 train, 100 val, 100 test, in the Kinetics CSV layout (`train.csv`, `val.csv`, `test.csv` with
`<path> <label>` lines), encoded by PyAV's bundled MPEG-4 encoder with a keyframe every 8 frames. Generated
once into a folder and reused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

SIZE, FRAMES, FPS = 32, 24, 30
PERIOD = 6  # frames of one fade
SPLITS = {"train": 400, "val": 100, "test": 100}
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # (dx, dy): right, left, down, up
RED, BLUE, GREEN, MAGENTA = (230, 30, 30), (30, 30, 230), (30, 200, 30), (210, 30, 210)
FADES = ((RED, BLUE), (BLUE, RED), (GREEN, MAGENTA), (MAGENTA, GREEN))  # the classes
VERSION = "moving-shapes-v3"


def default_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vis" / VERSION


def _backgrounds() -> list[np.ndarray]:
    from skimage import data

    return [np.asarray(getattr(data, name)()) for name in ("astronaut", "coffee", "chelsea", "rocket")]


def _frames(rng: np.random.Generator, label: int, backgrounds: list[np.ndarray]) -> np.ndarray:
    photo = backgrounds[rng.integers(len(backgrounds))]
    scale = rng.integers(2, 5)  # a patch of 64 to 128 source pixels, downsampled to 32
    h, w = photo.shape[:2]
    top, left = rng.integers(0, h - SIZE * scale), rng.integers(0, w - SIZE * scale)
    bg = photo[top : top + SIZE * scale : scale, left : left + SIZE * scale : scale].astype(np.float32)
    bg = 0.35 * bg + 0.65 * bg.mean()  # muted, so the shapes stand out
    yy, xx = np.mgrid[:SIZE, :SIZE]
    dx, dy = DIRECTIONS[rng.integers(len(DIRECTIONS))]
    start, end = (np.array(c, np.float32) for c in FADES[label])
    shapes = []
    for _ in range(rng.integers(1, 3)):
        shapes.append((rng.integers(0, SIZE, 2), rng.uniform(1.0, 2.0), rng.integers(3, 6), bool(rng.integers(2))))
    video = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    for t in range(FRAMES):
        frame = bg.copy()
        colour = start + (end - start) * (t % PERIOD) / (PERIOD - 1)
        for (x0, y0), speed, r, disc in shapes:
            cx, cy = (x0 + dx * speed * t) % SIZE, (y0 + dy * speed * t) % SIZE
            ddx = np.minimum(np.abs(xx - cx), SIZE - np.abs(xx - cx))  # distances on the torus
            ddy = np.minimum(np.abs(yy - cy), SIZE - np.abs(yy - cy))
            inside = (ddx**2 + ddy**2 <= r * r) if disc else ((ddx <= r) & (ddy <= r))
            frame[inside] = colour
        video[t] = frame.clip(0, 255).astype(np.uint8)
    return video


def write_mp4(path: str | Path, frames: np.ndarray, fps: int = FPS, gop: int = 8) -> None:
    """uint8 [T, H, W, 3] frames as an MPEG-4 part 2 file (the encoder PyAV's wheels ship)."""
    import av

    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000
        stream.codec_context.gop_size = gop
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def generate(root: str | Path, seed: int = 0) -> Path:
    """Write the dataset under `root` (nothing happens when it is already complete); returns `root`."""
    return write_dataset(root, SPLITS, len(FADES), _frames, seed)


def write_dataset(root: str | Path, splits: dict[str, int], num_classes: int, frames, seed: int = 0) -> Path:
    """Write `splits` ({name: count}) of MP4s made by `frames(rng, label, backgrounds)` (labels i % num_classes)
    with `<split>.csv` lists under `root`, atomically (nothing happens when it is already complete)."""
    root = Path(root)
    if all((root / f"{s}.csv").is_file() for s in splits):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    backgrounds = _backgrounds()
    rng = np.random.default_rng(seed)
    for split, count in splits.items():
        (tmp / split).mkdir()
        lines = []
        for i in range(count):
            label = i % num_classes
            name = f"{split}/{i:04d}.mp4"
            write_mp4(tmp / name, frames(rng, label, backgrounds))
            lines.append(f"{name} {label}")
        (tmp / f"{split}.csv").write_text("\n".join(lines) + "\n")
    try:
        tmp.rename(root)  # atomic: a concurrent generator that finished first wins
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not all((root / f"{s}.csv").is_file() for s in splits):
            raise
    return root
