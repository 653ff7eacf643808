import contextlib
import io

import pytest

from vis.mocov3 import cli

# a very small MoCo v3 ViT on digits (patch 8: 16 tokens): fast enough for resume, distributed and bad-input
# tests; with batch 128 an epoch of digits is 11 steps
FAST = [
    "--patch-size", "8", "--embed-dim", "32", "--depth", "1", "--num-heads", "2", "--dim", "16", "--mlp-dim", "64",
    "--batch-size", "128", "--epochs", "2", "--warmup-epochs", "1", "--knn-every", "0", "--log-every", "1",
    "--num-workers", "0",
]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)



# The learnability test runs the tiny ResNet recipe for 4 of its 20 epochs (kNN 0.783 against 0.556 for the
# random encoder, about 40 s here). The ViT recipe needs more epochs than the 4-minute budget allows to pull
# clearly away from its random encoder (8 epochs: kNN 0.822 against 0.761); its full-length numbers are in
# docs/mocov3.md, and its code path is tested by the other tests.
TINY = ["--recipe", "tiny-resnet", "--epochs", "4", "--warmup-epochs", "1", "--knn-every", "0"]


@pytest.fixture
def tiny_args() -> list[str]:
    return list(TINY)


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """A tiny recipe through mocov3-pretrain, shortened (TINY), once per session in this process: (output
    folder, what it printed)."""
    out = tmp_path_factory.mktemp("mocov3-tiny")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.pretrain.run([*TINY, "--output-dir", str(out)])
    return out, printed.getvalue()
