"""vis-rcg installs alone (wheels of vis-core and vis-rcg only, offline, in a fresh venv) and trains an RDM step
there on a MoCo v3-layout encoder file, without loading any other vis package or another method's heavy
dependency (torch-fidelity is its own extra's)."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_rcg_installs_and_runs_alone(tmp_path, encoder_file):
    trains_alone("vis-rcg", Path(__file__).resolve().parents[3], tmp_path,
                 ["--recipe", "tiny", "--encoder", str(encoder_file), "--rdm-depth", "1", "--rdm-width", "32",
                  "--epochs", "1", "--stop-after-steps", "1", "--num-workers", "0"],
                 ["vis.rcg.sample", "vis.rcg.evaluate", "vis.rcg.train_pixel"], entry="train_rdm",
                 own=frozenset({"torch-fidelity", "torch_fidelity"}), script="rcg-train-rdm")
