"""flip-pretrain with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process; flip-zeroshot takes the same launch options to the same SLURM request."""

from vis.core.launch import slurm_parameters
from vis.core.testing import LOCAL_JOB, submitted_log
from vis.flip.cli import pretrain, zeroshot


def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, capsys):
    out = tmp_path / "job"
    result = pretrain.run([*fast_args, "--stop-after-steps", "3", "--output-dir", str(out), *LOCAL_JOB])
    log = submitted_log(capsys.readouterr().out)
    assert log.is_file() and log.is_relative_to(out / "slurm")
    assert "global batch 64" in log.read_text() and result["step"] == 3
    assert (out / "checkpoints" / "last.pt").is_file()
    options = [*LOCAL_JOB, "--partition", "p", "--account", "a", "--cpus-per-task", "2"]
    ckpt = out / "checkpoints" / "last.pt"
    assert slurm_parameters(zeroshot.parse([*options, "--checkpoint", str(ckpt)]).launch) == \
        slurm_parameters(pretrain.parse(options).launch)
