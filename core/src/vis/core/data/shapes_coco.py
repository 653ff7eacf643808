"""A synthetic instance-segmentation dataset in COCO format: coloured circles, squares and triangles with
exact masks (later shapes occlude earlier ones), written as real PNG files and instances JSON, so the tiny
detection recipes and the tests go through the same pycocotools reader as COCO. Unoccluded squares and
triangles are stored as polygons, everything else as compressed RLE. Deterministic in the seed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "triangle")


def _shape(rng: np.random.Generator, size: int, kind: int) -> list[tuple[float, float]] | tuple:
    r = rng.uniform(0.08, 0.22) * size
    cx, cy = rng.uniform(r, size - r, 2)
    if kind == 0:
        return (cx - r, cy - r, cx + r, cy + r)
    if kind == 1:
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    a = rng.uniform(0, 2 * np.pi)
    return [(cx + r * np.cos(a + k * 2 * np.pi / 3), cy + r * np.sin(a + k * 2 * np.pi / 3)) for k in range(3)]


def _draw(size: int, kind: int, geom) -> np.ndarray:
    canvas = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(canvas)
    d.ellipse(geom, fill=1) if kind == 0 else d.polygon(geom, fill=1)
    return np.asarray(canvas, dtype=np.uint8)


def make_image(rng: np.random.Generator, size: int, max_shapes: int = 6) -> tuple[np.ndarray, list[dict]]:
    """One RGB image and its instances [{category_id, mask, polygon or None}] (masks after occlusion)."""
    base = rng.uniform(0, 255, 3)
    ramp = np.linspace(-40, 40, size)[None, :, None] * rng.choice([-1, 1])
    img = np.clip(base + ramp + rng.normal(0, 8, (size, size, 3)), 0, 255)
    shapes = []
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        kind = int(rng.integers(0, 3))
        geom = _shape(rng, size, kind)
        mask = _draw(size, kind, geom)
        img[mask > 0] = rng.uniform(0, 255, 3)
        for s in shapes:  # occlusion by the new shape: the polygon no longer describes the mask
            if (s["mask"] & mask).any():
                s["mask"], s["polygon"] = s["mask"] * (1 - mask), None
        shapes.append({"category_id": kind + 1, "mask": mask, "polygon": None if kind == 0 else geom})
    return img.astype(np.uint8), [s for s in shapes if s["mask"].sum() >= 16]


def _annotation(inst: dict, ann_id: int, image_id: int) -> dict:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(inst["mask"]))
    x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    if inst["polygon"] is not None:
        seg: list | dict = [[float(c) for p in inst["polygon"] for c in p]]
    else:
        seg = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    return {"id": ann_id, "image_id": image_id, "category_id": inst["category_id"], "segmentation": seg,
            "area": float(mask_utils.area(rle)), "bbox": [x, y, w, h], "iscrowd": 0}


def write_split(root: Path, split: str, count: int, size: int, seed: int) -> None:
    """root/split/*.png and root/annotations/instances_{split}.json."""
    rng = np.random.default_rng([seed, len(split)])
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    images, anns = [], []
    for i in range(count):
        img, insts = make_image(rng, size)
        name = f"{i:06d}.png"
        Image.fromarray(img).save(root / split / name)
        images.append({"id": i + 1, "file_name": name, "height": size, "width": size})
        anns += [_annotation(inst, len(anns) + k + 1, i + 1) for k, inst in enumerate(insts)]
    cats = [{"id": k + 1, "name": n, "supercategory": "shape"} for k, n in enumerate(CLASSES)]
    doc = {"images": images, "annotations": anns, "categories": cats}
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(doc))


def ensure_shapes(root: Path, train: int = 400, val: int = 50, size: int = 128, seed: int = 0) -> Path:
    """Generate the dataset under `root` once (atomically: a half-written folder is never used)."""
    if (root / "annotations" / "instances_val.json").is_file():
        return root
    tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    write_split(tmp, "train", train, size, seed)
    write_split(tmp, "val", val, size, seed + 1)
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(root)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return root
