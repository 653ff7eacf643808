"""vis-flip installs alone (wheels of vis-core and vis-flip only, without the clip extra, offline, in a fresh
venv) and trains a step there with the word tokenizer, without loading any other vis package, open_clip or
webdataset."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_flip_installs_and_runs_alone(tmp_path):
    trains_alone("vis-flip", Path(__file__).resolve().parents[3], tmp_path,
                 ["--tokenizer", "words", "--depth", "1", "--text-depth", "1", "--epochs", "1", "--warmup-epochs", "0",
                  "--samples-per-epoch", "512", "--stop-after-steps", "1", "--num-workers", "0",
                  "--zeroshot-data", "scenes:shape"], ["vis.flip.zeroshot", "vis.flip.convert"])
