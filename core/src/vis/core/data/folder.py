"""ImageNet-layout folders (one sub-folder per class), decoded lazily; unreadable files raise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vis.core.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"}


def read_image(path: str | Path) -> torch.Tensor:
    """An image file as uint8 RGB [3, H, W] (PIL: torchvision's decoders are deprecated since 0.29)."""
    with Image.open(path) as img:
        return torch.from_numpy(np.asarray(img.convert("RGB")).copy()).permute(2, 0, 1)


class ImageFolder(torch.utils.data.Dataset):
    """Files PATH/<class>/<image>; classes are the sorted sub-folder names. Returns uint8 [3, H, W]."""

    def __init__(self, root: str | Path):
        root = Path(root)
        if not root.is_dir():
            raise UserError("data folder not found", str(root), "give an existing folder with one sub-folder per class")
        self.classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.samples = [
            (f, label)
            for label, c in enumerate(self.classes)
            for f in sorted((root / c).rglob("*"))
            if f.suffix.lower() in IMAGE_SUFFIXES
        ]
        if not self.samples:
            raise UserError("no images found", str(root), "expected PATH/<class>/<image>.jpg")
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[i]
        return read_image(path), label

    def describe(self, i: int) -> str:
        return str(self.samples[i][0])


class ImageFiles(torch.utils.data.Dataset):
    """A list of image files (label 0), e.g. the images a user names on the command line."""

    def __init__(self, paths: list[str]):
        self.paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return read_image(self.paths[i]), 0

    def describe(self, i: int) -> str:
        return self.paths[i]
