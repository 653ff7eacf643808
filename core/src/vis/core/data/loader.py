"""Deterministic, resumable data path.

Every random draw for a sample (augmentation, and the per-sample seed a method uses for its masks) comes
from (seed, epoch, sample index) alone, so a run's result does not depend on the world size, the number of
loader workers, or where it was interrupted. The batch sampler shards each global batch across ranks and
can start in the middle of an epoch.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator

import numpy as np
import torch

from vis.core.data.skips import unreadable

log = logging.getLogger("vis")


def sample_seeds(seed: int, epoch: int, index: int) -> tuple[int, int]:
    """Two independent 32-bit seeds (augmentation, method) for one sample of one epoch."""
    a, b = np.random.SeedSequence([seed, epoch, index]).generate_state(2)
    return int(a), int(b)


@contextlib.contextmanager
def per_sample_rng(seed: int):
    """Seed torch's CPU generator, python and numpy for one sample's transform (timm's RandAugment draws from
    `random`), restoring the previous states afterwards. Only the CPU generator: transforms run on the CPU,
    and torch.manual_seed would also queue a CUDA seeding with a formatted stack trace on every call while
    CUDA is not initialised (half of the tiny recipes' loading time on a CPU)."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


class SeededDataset(torch.utils.data.Dataset):
    """Applies `transform` under a per-sample RNG; items are keyed by (epoch, index).

    Returns {"image", "label", "index", "seed"}, or None when the sample cannot be read or decoded (the
    collate function drops and counts it, naming the file).
    """

    def __init__(self, base: torch.utils.data.Dataset, transform: Callable | None, seed: int):
        self.base, self.transform, self.seed = base, transform, seed

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key: tuple[int, int]):
        epoch, index = key
        aug_seed, method_seed = sample_seeds(self.seed, epoch, index)
        try:
            image, label = self.base[index]
            with per_sample_rng(aug_seed):
                image, label = self.apply(image, label)
        except Exception as e:  # unreadable or corrupt sample: skipped and counted, never silent
            return {"skipped": unreadable(self.base, index, e)}
        return {"image": image, "label": label, "index": index, "seed": method_seed}

    def apply(self, image, label):
        """The transform of one sample (under its seed); subclasses may transform the label too."""
        return (image if self.transform is None else self.transform(image)), label


def collate(items: list[dict]) -> dict:
    """Stack good samples; list the names of skipped ones under "skipped"."""
    good = [it for it in items if "skipped" not in it]
    batch = torch.utils.data.default_collate(good) if good else {}
    batch["skipped"] = [it["skipped"] for it in items if "skipped" in it]
    return batch


class ShardedBatchSampler(torch.utils.data.Sampler):
    """Yields this rank's share of each global batch as a list of (epoch, index) keys.

    The epoch's order is a permutation seeded by (seed, epoch); global batch b is order[b*G:(b+1)*G] with
    G = batch_size * world_size, and rank r takes every world_size-th element of it, so one process with
    batch 2b sees exactly the samples two processes with batch b see together. `set_epoch` places it at a
    batch of an epoch (resuming mid-epoch) and lets one iteration run on through several epochs, so a single
    DataLoader iterator (and its workers) can serve a whole run.
    """

    def __init__(
        self, num_samples: int, batch_size: int, world_size: int = 1, rank: int = 0, seed: int = 0,
        shuffle: bool = True, drop_last: bool = True,
    ):
        self.n, self.batch_size, self.world, self.rank = num_samples, batch_size, world_size, rank
        self.seed, self.shuffle, self.drop_last = seed, shuffle, drop_last
        self.epoch, self.start_batch, self.epochs, self.batches = 0, 0, 1, self.batches_per_epoch()

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world

    def batches_per_epoch(self) -> int:
        g = self.global_batch
        return self.n // g if self.drop_last else -(-self.n // g)

    def set_epoch(self, epoch: int, start_batch: int = 0, epochs: int = 1, batches: int | None = None) -> None:
        """Start at batch `start_batch` of `epoch` and go on through `epochs` epochs in all, each of its first
        `batches` batches (default: all of them)."""
        self.epoch, self.start_batch, self.epochs = epoch, start_batch, epochs
        self.batches = self.batches_per_epoch() if batches is None else min(batches, self.batches_per_epoch())

    def __len__(self) -> int:
        return self.epochs * self.batches - self.start_batch

    def _order(self, epoch: int) -> list[int]:
        if not self.shuffle:
            return list(range(self.n))
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return torch.randperm(self.n, generator=g).tolist()

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        gb = self.global_batch
        for epoch in range(self.epoch, self.epoch + self.epochs):
            order = self._order(epoch)
            for b in range(self.start_batch if epoch == self.epoch else 0, self.batches):
                chunk = order[b * gb : (b + 1) * gb]
                yield [(epoch, i) for i in chunk[self.rank :: self.world]]


def make_loader(
    dataset: SeededDataset, sampler: ShardedBatchSampler, num_workers: int
) -> torch.utils.data.DataLoader:
    """A DataLoader over a sharded batch sampler; worker count never changes the samples' content."""
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, num_workers=num_workers, collate_fn=getattr(dataset, "collate", collate),
        pin_memory=torch.cuda.is_available(), persistent_workers=num_workers > 0,
    )
