"""Image-text datasets: (uint8 image [3, H, W], caption) pairs for training, and labelled images for zero-shot
evaluation. An unreadable image or a missing / empty caption raises when the sample is read, so the shared
loaders skip, name and count it (vis.core.data.skips)."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vis.core.data.folder import IMAGE_SUFFIXES, read_image
from vis.core.errors import UserError

SIZES = {"small": 5, "large": 9}
COLORS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (50, 80, 230)}
SHAPES = ("circle", "square", "triangle")
SIDES = ("left", "right")
SCENE_SIZE = 32


def scene_caption(size: str, color: str, shape: str, side: str) -> str:
    return f"a {size} {color} {shape} on the {side}"


def scene_templates(task: str) -> list[str]:
    """Zero-shot prompts for one scene attribute: every caption with that attribute left as "{}" (the other
    attributes ensembled, as CLIP's templates ensemble phrasings)."""
    slots = {"size": list(SIZES), "color": list(COLORS), "shape": list(SHAPES), "side": list(SIDES)}
    slots[task] = ["{}"]
    return [scene_caption(a, b, c, d) for a in slots["size"] for b in slots["color"] for c in slots["shape"]
            for d in slots["side"]]


def render_scene(rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, str]]:
    """One 32 x 32 scene: a shape of some size and colour on the left or right half of a noisy grey
    background, with position and shade jitter. Returns (uint8 [3, 32, 32], its attributes)."""
    attrs = {"size": str(rng.choice(list(SIZES))), "color": str(rng.choice(list(COLORS))),
             "shape": str(rng.choice(SHAPES)), "side": str(rng.choice(SIDES))}
    r = SIZES[attrs["size"]] + rng.uniform(-1, 1)
    cx = (8 if attrs["side"] == "left" else 24) + rng.uniform(-2, 2)
    cy = 16 + rng.uniform(-5, 5)
    yy, xx = np.mgrid[0:SCENE_SIZE, 0:SCENE_SIZE] + 0.5
    dx, dy = xx - cx, yy - cy
    if attrs["shape"] == "circle":
        inside = dx**2 + dy**2 <= r**2
    elif attrs["shape"] == "square":
        inside = (np.abs(dx) <= r * 0.85) & (np.abs(dy) <= r * 0.85)
    else:  # upward triangle
        inside = (dy <= r * 0.8) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
    img = rng.normal(128, 25, size=(SCENE_SIZE, SCENE_SIZE, 1)).repeat(3, axis=2) * rng.uniform(0.6, 1.2)
    color = np.array(COLORS[attrs["color"]]) * rng.uniform(0.8, 1.1) + rng.normal(0, 12, 3)
    img[inside] = color + rng.normal(0, 10, size=(int(inside.sum()), 3))
    img = np.clip(img, 0, 255).astype(np.uint8)
    return torch.from_numpy(img).permute(2, 0, 1).contiguous(), attrs


class SyntheticScenes(torch.utils.data.Dataset):
    """Captioned synthetic scenes ("a small red circle on the left": 72 captions), generated from (seed,
    split, index) alone: 20,000 training pairs by default, and a disjoint stream for validation."""

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0):
        self.split, self.seed = split, seed
        self.size = size if size is not None else (20_000 if split == "train" else 1_000)

    def __len__(self) -> int:
        return self.size

    def scene(self, i: int) -> tuple[torch.Tensor, dict[str, str]]:
        stream = 0 if self.split == "train" else 1
        return render_scene(np.random.default_rng([self.seed, stream, i]))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        img, a = self.scene(i)
        return img, scene_caption(a["size"], a["color"], a["shape"], a["side"])

    def describe(self, i: int) -> str:
        return f"scenes-{self.split}[{i}]"


class SceneLabels(torch.utils.data.Dataset):
    """The validation scenes labelled by one attribute ("shape" or "color"); `classes` are its values."""

    def __init__(self, task: str, size: int = 1_000):
        self.task, self.scenes = task, SyntheticScenes("val", size)
        self.classes = list(SHAPES if task == "shape" else COLORS)
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img, attrs = self.scenes.scene(i)
        return img, self.classes.index(attrs[self.task])

    def describe(self, i: int) -> str:
        return self.scenes.describe(i)


def decode_image(data: bytes) -> torch.Tensor:
    """Encoded image bytes -> uint8 RGB [3, H, W]."""
    with Image.open(io.BytesIO(data)) as img:
        return torch.from_numpy(np.asarray(img.convert("RGB")).copy()).permute(2, 0, 1)


def check_caption(text: str | None, where: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValueError(f"missing caption for {where}")
    return text


class TarShards(torch.utils.data.Dataset):
    """webdataset / img2dataset tar shards read by random access: each shard's members are indexed once
    (name, data offset, size), a sample is the image (`.jpg`, `.png`, `.webp`, ...) and `.txt` sharing a key.
    A key with an image but no caption (or the reverse) stays in the index and fails when read, so it is
    counted. Random access keeps the shared sampler's exact resume and world-size independence, which a
    streaming reader cannot give."""

    def __init__(self, shards: list[str]):
        self.shards = [str(s) for s in shards]
        self.samples: list[tuple[int, str, tuple[int, int] | None, tuple[int, int] | None]] = []
        for si, shard in enumerate(self.shards):
            try:
                with tarfile.open(shard, "r:") as tar:
                    members = [m for m in tar.getmembers() if m.isfile()]
            except (OSError, tarfile.TarError) as e:
                raise UserError(f"cannot read tar shard ({type(e).__name__})", shard,
                                "fix or remove the shard") from None
            keys: dict[str, dict[str, tuple[int, int]]] = {}
            for m in members:
                stem, dot, ext = m.name.rpartition(".")
                if not dot or ("." + ext.lower() not in IMAGE_SUFFIXES and ext.lower() != "txt"):
                    continue
                keys.setdefault(stem, {})["txt" if ext.lower() == "txt" else "img"] = (m.offset_data, m.size)
            self.samples += [(si, k, v.get("img"), v.get("txt")) for k, v in keys.items()]
        if not self.samples:
            raise UserError("no samples in the shards", self.shards[0] if self.shards else "--data",
                            "expected <key>.jpg and <key>.txt members")

    def __len__(self) -> int:
        return len(self.samples)

    def _read(self, shard: int, where: tuple[int, int]) -> bytes:
        with open(self.shards[shard], "rb") as f:
            f.seek(where[0])
            return f.read(where[1])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        shard, key, img, txt = self.samples[i]
        if img is None:
            raise ValueError("missing image")
        caption = check_caption(self._read(shard, txt).decode("utf-8") if txt else None, key)
        return decode_image(self._read(shard, img)), caption

    def describe(self, i: int) -> str:
        shard, key, _, _ = self.samples[i]
        return f"{self.shards[shard]}:{key}"


def _read_csv(path: str | Path, second: str) -> list[tuple[Path, str]]:
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or [c.strip() for c in rows[0][:2]] != ["path", second]:
        raise UserError(f"the CSV needs a header row 'path,{second}'", str(path), f"write 'path,{second}' as its "
                        "first line")
    return [(path.parent / r[0].strip(), r[1] if len(r) > 1 else "") for r in rows[1:] if r and r[0].strip()]


class CaptionCSV(torch.utils.data.Dataset):
    """Rows `path,caption`; a missing image file or an empty caption fails when read (skipped, counted)."""

    def __init__(self, path: str | Path):
        self.rows = _read_csv(path, "caption")
        if not self.rows:
            raise UserError("the CSV has no rows", str(path), "add rows 'path,caption'")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, str]:
        path, caption = self.rows[i]
        caption = check_caption(caption, str(path))
        return read_image(path), caption

    def describe(self, i: int) -> str:
        return str(self.rows[i][0])


class LabelledCSV(torch.utils.data.Dataset):
    """Rows `path,label` with the label a class name; classes are `classnames` (in that order) or the sorted
    labels of the file."""

    def __init__(self, path: str | Path, classnames: list[str] | None = None):
        self.rows = _read_csv(path, "label")
        labels = sorted({lab.strip() for _, lab in self.rows})
        self.classes = list(classnames) if classnames else labels
        unknown = sorted(set(labels) - set(self.classes))
        if unknown:
            raise UserError(f"label {unknown[0]!r} is not among the class names", str(path),
                            "add it to the class-names file or fix the row")
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, label = self.rows[i]
        return read_image(path), self.classes.index(label.strip())

    def describe(self, i: int) -> str:
        return str(self.rows[i][0])
