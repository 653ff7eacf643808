"""simsiam-pretrain with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process; the linear probe takes the same launch options to the same SLURM
request."""

from vis.core.testing import assert_same_slurm_request, submits_locally
from vis.simsiam.cli import linprobe, pretrain


def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, capsys):
    args = [*fast_args, "--stop-after-steps", "3", "--log-every", "1"]
    result, log = submits_locally(pretrain, args, tmp_path / "job", capsys)
    assert "global batch 64" in log and result["step"] == 3
    assert_same_slurm_request((pretrain, []), (linprobe, []))
