"""vis-simsiam installs alone (wheels of vis-core and vis-simsiam only, offline, in a fresh venv) and trains a
step there without loading any other vis package or another method's heavy dependency."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_simsiam_installs_and_runs_alone(tmp_path):
    trains_alone("vis-simsiam", Path(__file__).resolve().parents[3], tmp_path,
                 ["--resnet-width", "4", "--input-size", "16", "--epochs", "1", "--stop-after-steps", "1",
                  "--knn-every", "0", "--num-workers", "0"], ["vis.simsiam.linprobe"])
