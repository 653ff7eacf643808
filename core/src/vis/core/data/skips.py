"""Unreadable samples, on every path that reads data: skipped, named in the log, counted, and bounded.

Training (through `SeededDataset` and the collate function), the kNN monitor, classifier evaluation and the
figure paths all follow the same rule: an unreadable or undecodable sample is left out and named, the pass
counts what it read and what it skipped, and once the skipped fraction passes `--max-skipped-fraction` the
run stops with a one-line error.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch

from vis.core.errors import RunError

log = logging.getLogger("vis")


def describe(dataset: Any, index: int) -> str:
    """How the log names a sample: its file (or built-in index) when the dataset can say, else its index."""
    return dataset.describe(index) if hasattr(dataset, "describe") else f"sample {index}"


def unreadable(dataset: Any, index: int, error: Exception) -> str:
    """The log's line for a sample that could not be read: its name and the error."""
    return f"{describe(dataset, index)}: {type(error).__name__}: {error}"


class SkipCount:
    """What one pass over data read and skipped; `add` names the skipped samples and enforces the bound."""

    def __init__(self, max_fraction: float, source: str, stage: str, seen: int = 0, skipped: int = 0):
        self.max_fraction, self.source, self.stage = max_fraction, source, stage
        self.seen, self.skipped = seen, skipped

    @property
    def fraction(self) -> float:
        return self.skipped / max(self.seen, 1)

    def add(self, good: int, names: Sequence[str], skipped: int | None = None) -> None:
        """Count `good` readable samples and the unreadable `names` (this rank's; `skipped` is the count over
        all ranks when it differs). Raises RunError once the skipped fraction is above the bound."""
        for name in names:
            log.warning(f"skipped unreadable sample {name}")
        n_bad = len(names) if skipped is None else skipped
        self.seen += good + n_bad
        self.skipped += n_bad
        if n_bad and self.fraction > self.max_fraction:
            raise RunError(f"{self.skipped} of {self.seen} samples unreadable ({self.fraction:.1%}) in {self.stage}",
                           self.source, f"above --max-skipped-fraction {self.max_fraction}; fix or remove the "
                           "files named above")

    def report(self) -> None:
        """One log line with the counts, when anything was skipped."""
        if self.skipped:
            log.info(f"{self.stage}: skipped {self.skipped} unreadable of {self.seen} samples")


def read_batch(dataset: Any, indices: Sequence[int], transform: Callable
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """Read and transform `dataset[i]` for each index: (images [N, ...], labels [N], ok [N] bool, names of the
    unreadable ones). An unreadable sample keeps its place with a blank image and label -1 (ok False), so
    every rank's batch keeps its shape for collectives; callers drop it with `ok`."""
    images: list[Any] = []
    labels, ok, names = [], [], []
    for i in indices:
        try:
            img, label = dataset[i]
            images.append(transform(img))
            labels.append(int(label))
            ok.append(True)
        except Exception as e:  # unreadable or corrupt: skipped and counted, never silent
            names.append(unreadable(dataset, i, e))
            images.append(None)
            labels.append(-1)
            ok.append(False)
    like = next((x for x in images if x is not None), None)
    if like is None:  # nothing readable here: a blank of the transform's output size (images only)
        try:
            like = transform(torch.zeros(3, 8, 8, dtype=torch.uint8))
        except Exception:  # a video transform cannot make a blank from an image: no shape to keep
            return torch.zeros(len(indices), 1), torch.tensor(labels), torch.tensor(ok), names
    images = [torch.zeros_like(like) if x is None else x for x in images]
    return torch.stack(images), torch.tensor(labels), torch.tensor(ok), names


def readable_samples(dataset: Any, count: int, transform: Callable, where: str) -> torch.Tensor:
    """Up to `count` readable samples spread over the dataset, for figures: an unreadable one is named,
    counted in the log and replaced by the next readable one, so a figure never ends a finished run over a
    few bad files; only a dataset with nothing readable is an error. Returns a [k, ...] tensor, k <= count."""
    n = len(dataset)
    count = min(count, n)
    stride = max(n // max(count, 1), 1)
    # samples k * stride first (what a figure shows when all are readable), then their neighbours
    order = itertools.chain((k * stride + j for j in range(stride) for k in range(count)), range(count * stride, n))
    skips = SkipCount(1.0, where, where)  # named and counted, never bounded (see the docstring)
    good = []
    for i in order:
        if len(good) == count:
            break
        x, _, ok, bad = read_batch(dataset, [i], transform)
        skips.add(int(ok[0]), bad)
        if ok[0]:
            good.append(x[0])
    skips.report()
    if not good:
        raise RunError(f"none of the {n} samples is readable", where, "fix or remove the files named above")
    return torch.stack(good)
