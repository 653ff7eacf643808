import contextlib
import io

import pytest

from vis.flip import cli

# a very small FLIP on the synthetic scenes with the dependency-free word tokenizer: fast enough for resume,
# distributed, bad-input and data tests; 640 samples per (virtual) epoch of batch 64 = 10 steps
FAST = [
    "--embed-dim", "32", "--depth", "1", "--num-heads", "2", "--text-width", "32", "--text-depth", "1",
    "--text-heads", "2", "--proj-dim", "16", "--tokenizer", "words", "--vocab-size", "64", "--context-length", "16",
    "--batch-size", "64", "--samples-per-epoch", "640", "--epochs", "2", "--warmup-epochs", "1", "--log-every", "1",
    "--num-workers", "0",
]


@pytest.fixture
def fast_args() -> list[str]:
    return list(FAST)


# The learnability check: the tiny recipe (CLIP BPE, the recipe's model) shortened to TINY_EPOCHS of
# TINY_SAMPLES samples in batches of 128 (blr 2e-3, i.e. lr 1e-3, as the recipe's), masked 50%, then
# unmasked tuning for one such epoch at lr / 100; the monitor scores the scenes' colours.
TINY_EPOCHS, TINY_SAMPLES = 4, 5120
SHORT = ["--samples-per-epoch", str(TINY_SAMPLES), "--batch-size", "128", "--num-workers", "1",
         "--zeroshot-data", "scenes:color"]
TINY = ["--recipe", "tiny", *SHORT, "--epochs", str(TINY_EPOCHS), "--warmup-epochs", "0.5", "--blr", "2e-3"]
TUNING = ["--recipe", "tiny-unmasked-tuning", *SHORT, "--blr", "2e-5"]


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory):
    """The shortened tiny recipe through flip-pretrain, then its unmasked tuning, once per session in this
    process: (masked output folder, tuned output folder, what they returned)."""
    out = tmp_path_factory.mktemp("flip-tiny")
    masked, tuned = out / "masked", out / "tuned"
    with contextlib.redirect_stdout(io.StringIO()):
        r1 = cli.pretrain.run([*TINY, "--output-dir", str(masked)])
        r2 = cli.pretrain.run([*TUNING, "--finetune", str(masked / "checkpoints" / "last.pt"), "--output-dir",
                               str(tuned)])
    return masked, tuned, r1, r2
