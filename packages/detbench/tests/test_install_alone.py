"""vis-detbench installs alone (wheels of vis-core and vis-detbench only, offline, in a fresh venv) and trains a
step there from an MAE-layout file, without loading any other vis package."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone

from .layouts import mae_file


@pytest.mark.slow
def test_vis_detbench_installs_and_runs_alone(tmp_path, shapes_root):
    mae_file(tmp_path / "mae.pt")
    trains_alone("vis-detbench", Path(__file__).resolve().parents[3], tmp_path,
                 ["--data", f"coco:{shapes_root}", "--init", f"mae:{tmp_path / 'mae.pt'}", "--stop-after-steps", "1",
                  "--batch-size", "2", "--num-workers", "0", "--rois-per-image", "16"], ["vis.detbench.evaluate"],
                 entry="train", own=frozenset({"pycocotools"}))
