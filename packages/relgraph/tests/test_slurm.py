"""relgraph-sweep --nodes on a real SLURM (tools/slurm/local-cluster.sh up; .ci/run starts it): the pending
runs go out as one array job (vis.core.launch.submit_array, the path of every sweep and of
EntryPoint.submit_array), every element trains its own (graph, seed), the accounting shows every element
completed, and the same command afterwards finds nothing left to run."""

import json

import pytest

from vis.core.testing import final_weights, slurm_final_state, slurm_reachable
from vis.relgraph.cli import sweep
from vis.relgraph.graphs import GraphRow, complete_row, write_table

pytestmark = [pytest.mark.slurm, pytest.mark.skipif(not slurm_reachable(), reason="no reachable SLURM controller")]

CPU_TASK = ["--nodes", "1", "--gpus-per-node", "0", "--cpus-per-task", "1", "--tasks-per-node", "1",
            "--timeout-min", "10", "--wait"]


def test_sweep_runs_as_one_slurm_array_whose_elements_train_their_own_runs(tmp_path, capsys):
    table = write_table(tmp_path / "two.csv", [complete_row(16), GraphRow(16, 0.5, 0.3, 0).with_measures()])
    args = ["--recipe", "tiny", "--epochs", "1", "--seeds", "1", "--graphs", str(table), "--output-dir",
            str(tmp_path / "sweep"), *CPU_TASK]
    assert sweep.run(args) == {"runs": 2, "ran": 2}
    printed = capsys.readouterr().out
    assert "(slurm) of 2 runs" in printed
    runs = sorted((tmp_path / "sweep").glob("runs/*/seed0"))
    results = [json.loads((r / "result.json").read_text()) for r in runs]
    assert sorted(r["width"] for r in results)[0] == 64 and max(r["width"] for r in results) > 64
    a, b = (final_weights(r) for r in runs)
    assert any(not a[k].equal(b[k]) for k in a if a[k].shape == b[k].shape)  # each trained its own model
    assert slurm_final_state(printed.split("submitted array job ")[1].split()[0]) == "COMPLETED"
    assert sweep.run(args) == {"runs": 2, "ran": 0} and "2 finished, 0 to run" in capsys.readouterr().out
