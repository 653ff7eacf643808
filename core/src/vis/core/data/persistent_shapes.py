"""Built-in video data whose identity persists over time (the rho-video tiny recipe), as real MP4 files.

Each video is 48 frames of 32 x 32 pixels at 30 fps: one shape (square, disc or cross) of one colour (warm
or cool, each with a random shade) moves on a random walk, grows or shrinks, while the background cross-fades
between two unrelated photo patches. The class is shape x colour (6 classes): it holds in every frame, while
everything else (position, size, background) drifts, so clips far apart in time share only the class. Two
crops of one clip also share the background, a shortcut that clips at other times do not offer. Splits:
300 train, 60 val (`train.csv`, `val.csv` with `<path> <label>` lines). Generated once and reused.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vis.core.data.moving_shapes import write_dataset

SIZE, FRAMES = 32, 48
SPLITS = {"train": 300, "val": 60}
SHAPES = ("square", "disc", "cross")
COLOURS = ((220, 60, 40), (40, 90, 220))  # warm, cool; each video jitters the shade
NUM_CLASSES = len(SHAPES) * len(COLOURS)
VERSION = "persistent-shapes-v3"


def default_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vis" / VERSION


def _patch(rng: np.random.Generator, backgrounds: list[np.ndarray]) -> np.ndarray:
    photo = backgrounds[rng.integers(len(backgrounds))]
    scale = rng.integers(2, 5)
    h, w = photo.shape[:2]
    top, left = rng.integers(0, h - SIZE * scale), rng.integers(0, w - SIZE * scale)
    patch = photo[top : top + SIZE * scale : scale, left : left + SIZE * scale : scale].astype(np.float32)
    return 0.35 * patch + 0.65 * patch.mean()  # muted, so the shape stands out


def _mask(shape: str, cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:SIZE, :SIZE]
    dx, dy = np.abs(xx - cx), np.abs(yy - cy)
    if shape == "square":
        return (dx <= r) & (dy <= r)
    if shape == "disc":
        return dx**2 + dy**2 <= r * r
    return ((dx <= r / 2.5) & (dy <= r)) | ((dy <= r / 2.5) & (dx <= r))  # cross


def _frames(rng: np.random.Generator, label: int, backgrounds: list[np.ndarray]) -> np.ndarray:
    shape, colour = SHAPES[label // len(COLOURS)], np.array(COLOURS[label % len(COLOURS)], np.float32)
    colour = (colour + rng.uniform(-25, 25, 3)).clip(0, 255)
    bg0, bg1 = _patch(rng, backgrounds), _patch(rng, backgrounds)
    pos, vel = rng.uniform(10, 22, 2), rng.uniform(-1, 1, 2)
    r0, r1 = rng.uniform(5.0, 9.0, 2)
    video = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    for t in range(FRAMES):
        a = t / (FRAMES - 1)
        frame = (1 - a) * bg0 + a * bg1
        vel = (0.8 * vel + rng.normal(0, 0.5, 2)).clip(-1.5, 1.5)  # a smooth random walk inside the frame
        pos = (pos + vel).clip(10, SIZE - 10)
        frame[_mask(shape, pos[0], pos[1], (1 - a) * r0 + a * r1)] = colour
        video[t] = frame.clip(0, 255).astype(np.uint8)
    return video


def generate(root: str | Path, seed: int = 0) -> Path:
    """Write the dataset under `root` (nothing happens when it is already complete); returns `root`."""
    return write_dataset(root, SPLITS, NUM_CLASSES, _frames, seed)
