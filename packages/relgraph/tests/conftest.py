import pytest

# the tiny relgraph-train recipe shortened: 2 epochs of the MLP on digits on a 16-node graph (k 6, p 0.3)
FAST = ["--recipe", "tiny", "--epochs", "2", "--log-every", "1", "--num-workers", "0"]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)
