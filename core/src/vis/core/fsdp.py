"""Fully sharded data parallel (FSDP2, `torch.distributed.fsdp.fully_shard`) for models that do not fit one
device (ViT-H MAE, FLIP-H), and its sharded checkpoints (`torch.distributed.checkpoint`).

Each transformer block is its own FSDP unit (gathered just before it runs, freed after), the root holds the
rest. A sharded checkpoint is a folder of one file per rank; the Trainer's small `last.pt` names the folder
it belongs to, so replacing `last.pt` atomically switches checkpoints and an interrupted folder write is
never used.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn as nn

StateDict = dict[str, torch.Tensor]


def shard_model(model: nn.Module, units: tuple[type[nn.Module], ...]) -> nn.Module:
    """Shard `model` in place across the default process group: every module of a type in `units` becomes an
    FSDP unit, then the root; every rank starts from rank 0's weights. Parameters stay fp32 (autocast handles
    mixed precision as it does under DDP)."""
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard

    with torch.no_grad():  # rank 0's initialisation everywhere (DDP does the same), then each keeps a shard
        for t in [*model.parameters(), *model.buffers()]:
            dist.broadcast(t, src=0)
    for module in model.modules():
        if isinstance(module, units):
            fully_shard(module)
    fully_shard(model)
    return model


@contextlib.contextmanager
def no_gradient_sync(model: nn.Module) -> Iterator[None]:
    """Accumulate gradients locally (no reduce-scatter) on non-final micro-steps."""
    model.set_requires_gradient_sync(False)
    try:
        yield
    finally:
        model.set_requires_gradient_sync(True)


def full_state(model: nn.Module) -> StateDict:
    """The whole (unsharded) model state on every rank; collective."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))


def save_sharded(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> None:
    """Every rank writes its shard of model and optimizer state into `folder`; collective."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    msd, osd = get_state_dict(model, optimizer)
    dcp.save({"model": msd, "optimizer": osd}, checkpoint_id=str(folder))


def load_sharded(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> None:
    """Load model and optimizer shards written by `save_sharded` (same world size); collective."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    msd, osd = get_state_dict(model, optimizer)
    state = {"model": msd, "optimizer": osd}
    dcp.load(state, checkpoint_id=str(folder))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])


def read_sharded_model(folder: Path) -> StateDict:
    """The full model state of a sharded checkpoint folder, read in one process (no process group): for
    converters, fine-tuning and tests."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata

    meta = dcp.FileSystemReader(str(folder)).read_metadata().state_dict_metadata
    state = {
        key: torch.empty(m.size, dtype=m.properties.dtype) for key, m in meta.items()
        if key.startswith("model.") and isinstance(m, TensorStorageMetadata)
    }
    with warnings.catch_warnings():  # "assuming the intent is to load in a single process": it is
        warnings.simplefilter("ignore", UserWarning)
        dcp.load(state, checkpoint_id=str(folder), no_dist=True)
    return {key[len("model."):]: value for key, value in state.items()}
