"""Install one method alone: the vis-core and vis-mae wheels, built without the workspace, in a fresh venv,
pull no other vis package and none of the heavy optional dependencies of other methods (every other method
package runs the same check, vis.core.testing.trains_alone, in its own tests)."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_mae_installs_and_runs_alone(tmp_path):
    # one interpreter: a training step through the installed entry point, then what the process imported
    trains_alone("vis-mae", Path(__file__).resolve().parents[1], tmp_path,
                 ["--epochs", "1", "--warmup-epochs", "0", "--stop-after-steps", "1", "--knn-every", "0"],
                 ["vis.mae.finetune", "vis.mae.visualize", "vis.mae.linprobe"])
