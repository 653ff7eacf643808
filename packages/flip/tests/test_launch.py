"""flip-pretrain with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process; flip-zeroshot takes the same launch options to the same SLURM request."""

from vis.core.testing import assert_same_slurm_request, submits_locally
from vis.flip.cli import pretrain, zeroshot


def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, capsys):
    out = tmp_path / "job"
    result, log = submits_locally(pretrain, [*fast_args, "--stop-after-steps", "3"], out, capsys)
    assert "global batch 64" in log and result["step"] == 3
    assert_same_slurm_request((pretrain, []), (zeroshot, ["--checkpoint", out / "checkpoints" / "last.pt"]))
