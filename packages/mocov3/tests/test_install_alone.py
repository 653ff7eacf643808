"""vis-mocov3 installs alone (wheels of vis-core and vis-mocov3 only, offline, in a fresh venv) and trains a
step there without loading any other vis package or another method's heavy dependency."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_mocov3_installs_and_runs_alone(tmp_path):
    trains_alone("vis-mocov3", Path(__file__).resolve().parents[3], tmp_path,
                 ["--depth", "1", "--epochs", "1", "--warmup-epochs", "0", "--stop-after-steps", "1", "--knn-every",
                  "0", "--num-workers", "0"], ["vis.mocov3.linprobe", "vis.mocov3.export"])
