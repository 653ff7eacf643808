"""maest-pretrain with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process on the real MP4s; maest-finetune and maest-test take the same launch
options to the same SLURM request."""

from vis.core.testing import assert_same_slurm_request, submits_locally
from vis.mae_st.cli import finetune, pretrain, test

from .test_fault_tolerance import SMALL


def test_nodes_option_submits_runs_and_returns(tmp_path, shapes, capsys):
    out = tmp_path / "job"
    args = ["--data", shapes, *SMALL, "--batch-size", "4", "--stop-after-steps", "2", "--num-workers", "0"]
    result, log = submits_locally(pretrain, args, out, capsys)
    assert "global batch 4" in log and result["step"] == 2
    ckpt = ["--checkpoint", out / "checkpoints" / "last.pt"]
    assert_same_slurm_request((pretrain, []), (finetune, ["--finetune", ckpt[1]]), (test, ckpt))
