"""detbench-train with --nodes submits itself through submitit (its local executor: no SLURM needed) and the
job trains in the submitted process; detbench-eval takes the same launch options to the same SLURM request.
A run killed with kill -9, at a step and inside a checkpoint write, resumes to bitwise the same weights."""

from vis.core.testing import detector_submits_locally, kill_9_resumes_bitwise
from vis.detbench.cli import evaluate, train


def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, capsys):
    detector_submits_locally(train, evaluate, fast_args, tmp_path / "job", capsys)


def test_kill_9_resumes_bitwise(tmp_path, fast_args, monkeypatch):
    """AdamW's state, the per-image sampling seeds and the sampler position all come back."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the killed runs are real processes: one thread, as here
    kept = kill_9_resumes_bitwise("detbench-train", train.run, [*fast_args, "--save-every-steps", "2"], tmp_path, 16)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt
