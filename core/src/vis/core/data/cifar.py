"""CIFAR-10 in torchvision's layout (PATH/cifar-10-batches-py/, the python version), read by torchvision
without downloading: the train split is the 50,000 training images, val the 10,000 test images."""

from __future__ import annotations

from pathlib import Path

import torch

from vis.core.errors import UserError


class Cifar10(torch.utils.data.Dataset):
    """uint8 [3, 32, 32] images and labels of one CIFAR-10 split."""

    num_classes = 10

    def __init__(self, root: str | Path, split: str = "train"):
        from torchvision.datasets import CIFAR10

        try:
            data = CIFAR10(str(root), train=split == "train", download=False)
        except RuntimeError as e:  # missing or corrupted batches (torchvision checks their md5)
            raise UserError("CIFAR-10 not found or corrupted", str(root),
                            "expected PATH/cifar-10-batches-py/ as torchvision writes it") from e
        self.images = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
        self.labels = list(data.targets)
        self.split = split

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], self.labels[i]

    def describe(self, i: int) -> str:
        return f"cifar10-{self.split}[{i}]"
