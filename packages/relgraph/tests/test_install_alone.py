"""vis-relgraph installs alone (wheels of vis-core and vis-relgraph only, offline, in a fresh venv; matplotlib
comes with vis-core's plots extra) and trains there without loading any other vis package or another
method's heavy dependency."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_relgraph_installs_and_runs_alone(tmp_path):
    trains_alone("vis-relgraph", Path(__file__).resolve().parents[3], tmp_path,
                 ["--epochs", "1", "--stop-after-steps", "1", "--num-workers", "0"],
                 ["vis.relgraph.sweep", "vis.relgraph.analyze", "vis.relgraph.sets"], entry="train")
