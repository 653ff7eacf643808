"""Shared by the vis-rho tests: the persistent-shapes MP4s (written once per session), tiny configs, clips."""

import pytest
import torch

from vis.core.data.persistent_shapes import generate
from vis.rho.recipes import tiny

FAST = ["--num-workers", "2", "--log-every", "5"]


def tiny_config(method: str, rho: int = 2, **kw):
    """The tiny recipe's model settings for `method`, narrowed further for unit tests."""
    cfg = tiny()
    cfg.method, cfg.rho, cfg.dim, cfg.mlp_dim, cfg.queue_len, cfg.prototypes = method, rho, 16, 32, 64, 10
    for k, v in kw.items():
        setattr(cfg, k, v)
    cfg.resolve()
    return cfg


def clips(views: int, n: int, seed: int = 0) -> torch.Tensor:
    """Random normalised clips [V, N, 3, 2, 16, 16]."""
    return torch.randn(views, n, 3, 2, 16, 16, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="session")
def shapes(tmp_path_factory) -> str:
    return f"persistent-shapes:{generate(tmp_path_factory.mktemp('data') / 'shapes')}"


@pytest.fixture
def config():
    return tiny_config


@pytest.fixture
def make_clips():
    return clips


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread per process (the loader workers take the other core): two threads on a 2-core
    machine shared with loader workers or other jobs make each step many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
