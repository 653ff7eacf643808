import contextlib
import io

import pytest

from vis.simsiam import cli

# a very small SimSiam on digits (ResNet-18 of width 4 at 16 px): fast enough for the lr, resume, collapse
# and distributed tests
FAST = [
    "--resnet-width", "4", "--input-size", "16", "--dim", "32", "--pred-dim", "8", "--batch-size", "64",
    "--epochs", "2", "--knn-every", "0", "--log-every", "5", "--num-workers", "0",
]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)




TINY_EPOCHS = 5  # of the recipe's 50: the package's tests keep to their 4 minutes on 2 cores


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """The tiny recipe, shortened to TINY_EPOCHS, run once per session in this process: (output folder, what
    it printed)."""
    out = tmp_path_factory.mktemp("simsiam-tiny")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.pretrain.run(["--recipe", "tiny", "--epochs", str(TINY_EPOCHS), "--knn-every", "0",
                          "--output-dir", str(out)])
    return out, printed.getvalue()
