"""vis-mae-st installs alone (wheels of vis-core and vis-mae-st only, offline, in a fresh venv) with PyAV as
its only heavy extra, and trains a step on the built-in MP4s there without loading any other vis package."""

from pathlib import Path

import pytest

from vis.core.testing import trains_alone


@pytest.mark.slow
def test_vis_mae_st_installs_and_runs_alone(tmp_path, shapes):
    trains_alone("vis-mae-st", Path(__file__).resolve().parents[3], tmp_path,
                 ["--data", shapes, "--depth", "1", "--epochs", "1", "--warmup-epochs", "0", "--stop-after-steps",
                  "1", "--num-workers", "0"], ["vis.mae_st.finetune", "vis.mae_st.test", "vis.mae_st.validate"],
                 own=frozenset({"av"}), script="maest-pretrain")
