"""Data: dataset specs, built-in real data, transforms, and the deterministic resumable loader."""

from vis.core.data.loader import SeededDataset, ShardedBatchSampler, collate, make_loader, sample_seeds
from vis.core.data.specs import DataSpec, parse_data_spec

__all__ = ["DataSpec", "SeededDataset", "ShardedBatchSampler", "collate", "make_loader", "parse_data_spec",
           "sample_seeds"]
