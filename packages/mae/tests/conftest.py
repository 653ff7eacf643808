import functools

import pytest

from vis.core.testing import run_script

# a very small MAE on digits: fast enough for resume, distributed and launch tests
FAST = [
    "--embed-dim", "32", "--depth", "2", "--num-heads", "2", "--decoder-embed-dim", "32", "--decoder-depth", "1",
    "--decoder-num-heads", "2", "--batch-size", "64", "--epochs", "2", "--warmup-epochs", "1", "--knn-every", "0",
    "--num-figures", "2", "--log-every", "5", "--blr", "5e-3",
]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)


@pytest.fixture
def mae_pretrain():
    return functools.partial(run_script, "mae-pretrain")


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """The README's main job, run once per session: (output folder, completed process)."""
    out = tmp_path_factory.mktemp("mae-tiny")
    proc = run_script("mae-pretrain", "--recipe", "tiny", "--output-dir", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc
