"""Real data that ships with installed packages, for demos and tests: scikit-learn digits and
scikit-image's bundled colour photographs. Nothing is downloaded."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DIGITS_SIZE = 32
PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket")


def _digits_cache() -> Path:
    from importlib import metadata

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vis"
    return root / f"digits-sklearn-{metadata.version('scikit-learn')}.npz"


def _digits_source() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images [1797, 8, 8] in 0..16, labels, train indices, val indices). scikit-learn's import costs ~1.3 s
    per process here, so its arrays and split are kept in a small cache file per scikit-learn version."""
    cache = _digits_cache()
    try:
        with np.load(cache) as f:
            return f["images"], f["labels"], f["train"], f["test"]
    except (OSError, KeyError, ValueError):
        pass
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    idx = np.arange(len(d.target))
    train, test = train_test_split(idx, test_size=360, stratify=d.target, random_state=0)
    arrays = d.images.astype(np.uint8), d.target.astype(np.int64), np.sort(train), np.sort(test)
    try:  # a unique temporary name, then an atomic rename: concurrent processes may race harmlessly
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, images=arrays[0], labels=arrays[1], train=arrays[2], test=arrays[3])
        os.replace(tmp, cache)
    except OSError:
        pass  # no writable cache: load from scikit-learn every time
    return arrays


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[torch.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    images, labels, train, test = _digits_source()
    x = torch.from_numpy(images.astype(np.float64)).float().div(16.0).unsqueeze(1)  # [1797, 1, 8, 8] in [0, 1]
    x = F.interpolate(x, size=(DIGITS_SIZE, DIGITS_SIZE), mode="bilinear", align_corners=False)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    return x, labels, train, test


class DigitsImages(torch.utils.data.Dataset):
    """scikit-learn's 1797 handwritten digits as 3x32x32 uint8 images; stratified 1437 train / 360 val
    split (seed 0)."""

    num_classes = 10

    def __init__(self, split: str = "train"):
        x, y, train, test = _digits_arrays()
        self.indices = train if split == "train" else test
        self.images, self.labels = x, y

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        j = self.indices[i]
        return self.images[j], int(self.labels[j])

    def describe(self, i: int) -> str:
        return f"digits[{self.indices[i]}]"


class PhotoImages(torch.utils.data.Dataset):
    """scikit-image's bundled colour photographs (astronaut, coffee, chelsea, rocket), label = photo id.

    An epoch visits each photo `repeats` times; random crops make the views differ.
    """

    def __init__(self, split: str = "train", repeats: int = 256):
        import skimage.data

        self.photos = [torch.from_numpy(np.ascontiguousarray(getattr(skimage.data, n)())).permute(2, 0, 1)
                       for n in PHOTO_NAMES]
        self.repeats = repeats if split == "train" else max(repeats // 8, 1)
        self.num_classes = len(self.photos)

    def __len__(self) -> int:
        return len(self.photos) * self.repeats

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        k = i % len(self.photos)
        return self.photos[k], k

    def describe(self, i: int) -> str:
        return f"photos[{PHOTO_NAMES[i % len(self.photos)]}]"
