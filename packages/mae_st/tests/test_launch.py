"""maest-pretrain with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process on the real MP4s; maest-finetune and maest-test take the same launch
options to the same SLURM request."""

from vis.core.launch import slurm_parameters
from vis.core.testing import LOCAL_JOB, submitted_log
from vis.mae_st.cli import finetune, pretrain, test

from .test_fault_tolerance import SMALL


def test_nodes_option_submits_runs_and_returns(tmp_path, shapes, capsys):
    out = tmp_path / "job"
    result = pretrain.run(["--data", shapes, *SMALL, "--batch-size", "4", "--stop-after-steps", "2",
                           "--num-workers", "0", "--output-dir", str(out), *LOCAL_JOB])
    log = submitted_log(capsys.readouterr().out)
    assert log.is_file() and log.is_relative_to(out / "slurm")
    assert "global batch 4" in log.read_text() and result["step"] == 2
    assert (out / "checkpoints" / "last.pt").is_file()
    options = [*LOCAL_JOB, "--partition", "p", "--account", "a", "--cpus-per-task", "2"]
    ckpt = str(out / "checkpoints" / "last.pt")
    expected = slurm_parameters(pretrain.parse(options).launch)
    assert slurm_parameters(finetune.parse([*options, "--finetune", ckpt]).launch) == expected
    assert slurm_parameters(test.parse([*options, "--checkpoint", ckpt]).launch) == expected
