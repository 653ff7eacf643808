"""Install one method alone: the vis-core and vis-mae wheels, built without the workspace, in a fresh venv,
pull no other vis package and none of the heavy optional dependencies of other methods (every other method
package runs the same check, vis.core.testing.check_installs_alone, in its own tests)."""

import shutil
from pathlib import Path

import pytest

from vis.core.testing import check_installs_alone, foreign_modules_code

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_vis_mae_installs_and_runs_alone(tmp_path):
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH")
    # one interpreter: a training step through the installed entry point, then what the process imported
    out = tmp_path / "run"
    code = ("import vis.mae.finetune, vis.mae.visualize, vis.mae.linprobe; from vis.mae.cli import pretrain; "
            f"pretrain.run(['--epochs', '1', '--warmup-epochs', '0', '--stop-after-steps', '1', '--knn-every', '0', "
            f"'--output-dir', {str(out)!r}]); " + foreign_modules_code("mae"))
    assert check_installs_alone("vis-mae", ROOT, tmp_path, code) == "[]"
    assert (out / "checkpoints" / "last.pt").is_file()
