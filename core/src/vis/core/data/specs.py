"""Dataset specs a user can type: images (`digits`, `photos`, `imagefolder:PATH`, `cifar10:PATH`) and videos
(`moving-shapes[:PATH]`, `kinetics:PATH`, `videofolder:PATH`; vis-core[video])."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vis.core.errors import UserError

if TYPE_CHECKING:  # the data classes import torch; parsing a spec must not
    import torch

KNOWN = "digits | photos | imagefolder:PATH | cifar10:PATH"
KNOWN_VIDEO = "moving-shapes[:PATH] | persistent-shapes[:PATH] | kinetics:PATH | videofolder:PATH"
VIDEO_KINDS = ("moving-shapes", "persistent-shapes", "kinetics", "videofolder")


@dataclass(frozen=True)
class DataSpec:
    """A parsed dataset spec; `dataset(split)` builds the raw (uint8 image, label) dataset."""

    kind: str
    path: str = ""

    @property
    def is_video(self) -> bool:
        return self.kind in VIDEO_KINDS

    def dataset(self, split: str = "train") -> torch.utils.data.Dataset:
        if self.is_video:
            return self._video_dataset(split)
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

    def _video_dataset(self, split: str) -> torch.utils.data.Dataset:
        from vis.core.data.video import VideoList

        if self.kind == "moving-shapes":
            from vis.core.data.moving_shapes import default_root, generate

            root = generate(self.path or default_root())
            return VideoList.from_csv(root / f"{split}.csv", num_classes=4)
        if self.kind == "persistent-shapes":
            from vis.core.data import persistent_shapes as ps

            return VideoList.from_csv(ps.generate(self.path or ps.default_root()) / f"{split}.csv", ps.NUM_CLASSES)
        root = Path(self.path)
        if self.kind == "kinetics":
            return VideoList.from_csv(root / f"{split}.csv")
        if (root / split).is_dir():
            return VideoList.from_folder(root / split)
        if split == "train":
            return VideoList.from_folder(root)
        raise UserError(f"no '{split}' split", str(root), f"create {root / split} or skip this evaluation")

    def has_split(self, split: str) -> bool:
        if self.kind == "persistent-shapes":
            return split in ("train", "val")
        if self.kind == "kinetics":
            return (Path(self.path) / f"{split}.csv").is_file()
        if self.kind in ("imagefolder", "videofolder"):
            return (Path(self.path) / split).is_dir() or split == "train"
        return True


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
    if kind in ("moving-shapes", "persistent-shapes"):
        return DataSpec(kind, str(Path(path).resolve()) if path else "")
    if kind == "kinetics" and path:
        if not (Path(path) / "train.csv").is_file() and not (Path(path) / "test.csv").is_file():
            raise UserError("no train.csv or test.csv", path,
                            "give --data kinetics:PATH with PATH/{train,val,test}.csv")
        return DataSpec(kind, str(Path(path).resolve()))
    if kind == "videofolder" and path:
        if not Path(path).is_dir():
            raise UserError("data folder not found", path, "give --data videofolder:PATH with PATH/<class>/<video>")
        return DataSpec(kind, str(Path(path).resolve()))
    raise UserError(f"unknown dataset spec '{spec}'", "--data", f"use one of {KNOWN} | {KNOWN_VIDEO}")
