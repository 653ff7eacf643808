"""Detection dataset specs (`shapes`, `coco:ROOT`), parsed without importing torch or pycocotools."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vis.core.errors import UserError

KNOWN = "shapes | coco:ROOT"


def shapes_root() -> Path:
    """Where the synthetic shapes dataset is generated ($VIS_DATA_DIR or ~/.cache/vis)."""
    return Path(os.environ.get("VIS_DATA_DIR", "~/.cache/vis")).expanduser() / "shapes-coco-v1"


@dataclass(frozen=True)
class DetectionSpec:
    """A COCO-format dataset: ROOT/annotations/instances_<split>.json and images in ROOT/<split>/ (the 2017
    names train2017 / val2017 are found from train / val)."""

    kind: str
    root: Path

    def files(self, split: str) -> tuple[Path, Path]:
        """(instances JSON, image folder) of a split; one-line error when absent."""
        if self.kind == "shapes":
            from vis.core.data.shapes_coco import ensure_shapes

            ensure_shapes(self.root)
        for name in (split, f"{split}2017"):
            ann = self.root / "annotations" / f"instances_{name}.json"
            if ann.is_file():
                return ann, self.root / name
        raise UserError(f"no annotations for split '{split}'", str(self.root / "annotations"),
                        f"expected instances_{split}.json or instances_{split}2017.json")

    def dataset(self, split: str) -> Any:
        from vis.core.data.coco import CocoDataset

        ann, images = self.files(split)
        return CocoDataset(ann, images)


def parse_detection_spec(spec: str) -> DetectionSpec:
    """`shapes` or `coco:ROOT` (ROOT must hold an annotations folder)."""
    if spec == "shapes":
        return DetectionSpec("shapes", shapes_root())
    kind, _, path = spec.partition(":")
    if kind != "coco" or not path:
        raise UserError(f"unknown detection data '{spec}'", "--data", f"use {KNOWN}")
    root = Path(path).expanduser()
    if not (root / "annotations").is_dir():
        raise UserError("no annotations folder", str(root), "expected ROOT/annotations/instances_<split>.json")
    return DetectionSpec("coco", root)
