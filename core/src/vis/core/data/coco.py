"""COCO-format instance datasets through pycocotools (vis-core[detection]): polygon, RLE and uncompressed
RLE masks, crowd regions kept with their flag, category ids mapped to contiguous labels 1..K."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vis.core.errors import UserError


def load_coco(ann_file: str | Path):
    """A pycocotools COCO index of `ann_file`, quietly; a missing extra or a bad file is a one-line error."""
    try:
        from pycocotools.coco import COCO
    except ImportError:
        raise UserError("pycocotools is not installed", "vis-core[detection]",
                        "install the extra: pip install 'vis-core[detection]'") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(ann_file))
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        raise UserError("not a COCO instances file", str(ann_file), f"{type(e).__name__}: {e}") from None


class CocoDataset(torch.utils.data.Dataset):
    """Items (uint8 image [3, H, W], target) with target = {boxes [N, 4] xyxy float, labels [N] int64 in
    1..K, masks [N, H, W] uint8, iscrowd [N] bool, image_id int, orig_size (H, W)}. Annotations with a box
    under one pixel are left out (as detectron2 does)."""

    def __init__(self, ann_file: str | Path, image_dir: str | Path):
        self.coco, self.image_dir = load_coco(ann_file), Path(image_dir)
        self.ids = sorted(self.coco.getImgIds())
        self.cat_ids = sorted(self.coco.getCatIds())
        self.label_of = {c: i + 1 for i, c in enumerate(self.cat_ids)}

    @property
    def num_classes(self) -> int:
        return len(self.cat_ids)

    def __len__(self) -> int:
        return len(self.ids)

    def describe(self, index: int) -> str:
        return str(self.image_dir / self.coco.imgs[self.ids[index]]["file_name"])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict]:
        img_id = self.ids[index]
        info = self.coco.imgs[img_id]
        with Image.open(self.image_dir / info["file_name"]) as f:
            image = torch.from_numpy(np.array(f.convert("RGB"))).permute(2, 0, 1).contiguous()
        h, w = image.shape[1:]
        anns = [a for a in self.coco.imgToAnns.get(img_id, []) if a["bbox"][2] >= 1 and a["bbox"][3] >= 1]
        masks = np.stack([self.coco.annToMask(a) for a in anns]) if anns else np.zeros((0, h, w), np.uint8)
        if masks.shape[1:] != (h, w):
            raise ValueError(f"masks of size {masks.shape[1:]} for an image of size {(h, w)}")
        boxes = torch.tensor([[x, y, x + bw, y + bh] for x, y, bw, bh in (a["bbox"] for a in anns)],
                             dtype=torch.float32).reshape(-1, 4)
        target = {"boxes": boxes, "labels": torch.tensor([self.label_of[a["category_id"]] for a in anns],
                                                          dtype=torch.int64),
                  "masks": torch.from_numpy(masks), "iscrowd": torch.tensor([bool(a.get("iscrowd", 0)) for a in anns],
                                                                            dtype=torch.bool),
                  "image_id": img_id, "orig_size": (h, w)}
        return image, target
