"""Built-in video data whose identity persists over time (the rho-video tiny recipe), as real MP4 files.

Each video is 48 frames of 32 x 32 pixels at 30 fps: one object (square or disc) moves on a random walk and
grows or shrinks over a photo patch. The class is the object's surface pattern (horizontal stripes, vertical
stripes, checkerboard or solid; 4 classes), which holds in every frame. Everything else changes: every 8
frames a cut replaces the background with another photo patch and repaints the object in a new colour. Two
crops of one clip therefore share the background and the colours, an easy shortcut; clips at other times of
the video share only the pattern (and the drifting position, size and outline). Learning from clips at
independent times (rho >= 2) has to use what persists. Splits: 300 train, 180 val (`train.csv`,
`val.csv` with `<path> <label>` lines). Generated once and reused.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vis.core.data.moving_shapes import write_dataset

SIZE, FRAMES, CUT = 32, 48, 8  # a new background and colour every CUT frames
SPLITS = {"train": 300, "val": 180}
PATTERNS = ("horizontal stripes", "vertical stripes", "checkerboard", "solid")  # the classes
NUM_CLASSES = len(PATTERNS)
VERSION = "persistent-shapes-v4"


def default_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vis" / VERSION


def _patch(rng: np.random.Generator, backgrounds: list[np.ndarray]) -> np.ndarray:
    photo = backgrounds[rng.integers(len(backgrounds))]
    scale = rng.integers(2, 5)
    h, w = photo.shape[:2]
    top, left = rng.integers(0, h - SIZE * scale), rng.integers(0, w - SIZE * scale)
    patch = photo[top : top + SIZE * scale : scale, left : left + SIZE * scale : scale].astype(np.float32)
    return 0.6 * patch + 0.4 * patch.mean()  # a little muted, so the object stands out


def _paint(label: int, colour: np.ndarray) -> np.ndarray:
    """The whole frame painted with pattern `label`: 2-pixel bands of `colour` and a quarter of its brightness
    (a luminance pattern, which MPEG-4's subsampled chroma keeps)."""
    yy, xx = np.mgrid[:SIZE, :SIZE] // 2
    on = (yy % 2 == 0, xx % 2 == 0, (yy + xx) % 2 == 0, np.ones((SIZE, SIZE), bool))[label]
    return np.where(on[..., None], colour, 0.25 * colour)


def _frames(rng: np.random.Generator, label: int, backgrounds: list[np.ndarray]) -> np.ndarray:
    cuts = [(_patch(rng, backgrounds), _paint(label, rng.uniform(60, 255, 3)), bool(rng.integers(2)),
             rng.uniform(6.5, 10.5)) for _ in range(FRAMES // CUT)]  # background, paint, disc?, radius
    yy, xx = np.mgrid[:SIZE, :SIZE]
    video = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    for t in range(FRAMES):
        background, paint, disc, r = cuts[t // CUT]
        if t % CUT == 0:  # the cut also moves the object
            pos, vel = rng.uniform(10, 22, 2), rng.uniform(-1, 1, 2)
        vel = (0.8 * vel + rng.normal(0, 0.5, 2)).clip(-1.5, 1.5)  # a smooth random walk inside the frame
        pos = (pos + vel).clip(10, SIZE - 10)
        dx, dy = np.abs(xx - pos[0]), np.abs(yy - pos[1])
        inside = (dx**2 + dy**2 <= r * r) if disc else ((dx <= r) & (dy <= r))
        video[t] = np.where(inside[..., None], paint, background).clip(0, 255).astype(np.uint8)
    return video


def generate(root: str | Path, seed: int = 0) -> Path:
    """Write the dataset under `root` (nothing happens when it is already complete); returns `root`."""
    return write_dataset(root, SPLITS, NUM_CLASSES, _frames, seed)
