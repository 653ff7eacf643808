"""Dataset specs a user can type: `digits`, `photos`, `imagefolder:PATH`, `cifar10:PATH`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vis.core.errors import UserError

if TYPE_CHECKING:  # the data classes import torch; parsing a spec must not
    import torch

KNOWN = "digits | photos | imagefolder:PATH | cifar10:PATH"


@dataclass(frozen=True)
class DataSpec:
    """A parsed dataset spec; `dataset(split)` builds the raw (uint8 image, label) dataset."""

    kind: str
    path: str = ""

    def dataset(self, split: str = "train") -> torch.utils.data.Dataset:
        if self.kind == "digits":
            from vis.core.data.builtin import DigitsImages

            return DigitsImages(split)
        if self.kind == "photos":
            from vis.core.data.builtin import PhotoImages

            return PhotoImages(split)
        if self.kind == "cifar10":
            from vis.core.data.cifar import Cifar10

            return Cifar10(self.path, split)
        from vis.core.data.folder import ImageFolder

        root = Path(self.path)
        sub = root / split
        if sub.is_dir():
            return ImageFolder(sub)
        if split == "train":
            return ImageFolder(root)
        raise UserError(f"no '{split}' split", str(root), f"create {sub} or skip this evaluation")

    def has_split(self, split: str) -> bool:
        return self.kind != "imagefolder" or (Path(self.path) / split).is_dir() or split == "train"


def parse_data_spec(spec: str) -> DataSpec:
    """Parse and check a spec; a folder that does not exist fails here, before any work starts."""
    kind, _, path = spec.partition(":")
    if kind in ("digits", "photos") and not path:
        return DataSpec(kind)
    if kind == "imagefolder" and path:
        if not Path(path).is_dir():
            raise UserError("data folder not found", path, "give --data imagefolder:PATH with PATH/<class>/<img>")
        return DataSpec(kind, str(Path(path).resolve()))
    if kind == "cifar10" and path:
        if not (Path(path) / "cifar-10-batches-py").is_dir():
            raise UserError("CIFAR-10 not found", path, "give --data cifar10:PATH with PATH/cifar-10-batches-py/")
        return DataSpec(kind, str(Path(path).resolve()))
    raise UserError(f"unknown dataset spec '{spec}'", "--data", f"use one of {KNOWN}")
