"""vis-rho installs alone (wheels of vis-core and vis-rho only, offline, in a fresh venv) and pre-trains a step
there without loading any other vis package or another method's heavy dependency."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_rho_installs_and_runs_alone(tmp_path):
    trains_alone("vis-rho", Path(__file__).resolve().parents[3], tmp_path,
                 ["--epochs", "1", "--warmup-epochs", "0", "--stop-after-steps", "1", "--num-workers", "0",
                  "--dim", "16", "--mlp-dim", "32"], ["vis.rho.linprobe", "vis.rho.finetune", "vis.rho.convert"],
                 own=frozenset({"av"}))
