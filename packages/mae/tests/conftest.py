import contextlib
import functools
import io

import pytest

from vis.core.testing import GLOO_ENV, run_script, torchrun
from vis.mae import cli

# a very small MAE on digits: fast enough for resume, distributed and launch tests
FAST = [
    "--embed-dim", "32", "--depth", "2", "--num-heads", "2", "--decoder-embed-dim", "32", "--decoder-depth", "1",
    "--decoder-num-heads", "2", "--batch-size", "64", "--epochs", "2", "--warmup-epochs", "1", "--knn-every", "0",
    "--num-figures", "2", "--log-every", "5", "--blr", "5e-3",
]
# two processes of 32 on CPU, every step logged (tests follow the run), 4 epochs of 22 steps
TWO_RANKS = [*FAST, "--batch-size", "32", "--epochs", "4", "--log-every", "1", "--num-workers", "0"]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)


@pytest.fixture
def two_rank_args() -> list[str]:
    return list(TWO_RANKS)




@pytest.fixture
def mae_pretrain():
    return functools.partial(run_script, "mae-pretrain")


TINY_EPOCHS = 20  # of the recipe's 40: the package's tests keep to their 4 minutes on 2 cores


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """The README's main job, shortened to TINY_EPOCHS, run once per session in this process (the console
    script's own start is tests/test_startup.py's subject): (output folder, what it printed)."""
    out = tmp_path_factory.mktemp("mae-tiny")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.pretrain.run(["--recipe", "tiny", "--epochs", str(TINY_EPOCHS), "--output-dir", str(out)])
    return out, printed.getvalue()


@pytest.fixture(scope="session")
def two_rank_reference(tmp_path_factory):
    """An uninterrupted DDP run of TWO_RANKS under torchrun (2 gloo processes): the output folder. SLURM,
    preemption, lost-rank and FSDP runs of the same arguments are compared with it."""
    out = tmp_path_factory.mktemp("two-rank-reference")
    proc = run_script("mae-pretrain", *TWO_RANKS, "--output-dir", out, env=GLOO_ENV,
                      launcher=torchrun(2, "vis.mae.pretrain", 29741))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
