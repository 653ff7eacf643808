"""Data: dataset specs, built-in real data, transforms, the deterministic resumable loader, and the
skip-name-count rule for unreadable samples.

Names are loaded on first use (PEP 562), so that `vis.core.data.specs`, which config validation uses,
imports without torch.
"""

from importlib import import_module

_WHERE = {
    "SeededDataset": "loader", "ShardedBatchSampler": "loader", "collate": "loader", "make_loader": "loader",
    "sample_seeds": "loader", "DataSpec": "specs", "parse_data_spec": "specs", "SkipCount": "skips",
    "read_samples": "skips",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'vis.core.data' has no attribute '{name}'")
    return getattr(import_module(f"vis.core.data.{_WHERE[name]}"), name)
