"""How the submitting side words a job that ended badly (srun's and submitit's texts as they are written)."""

from types import SimpleNamespace

from vis.core.launch import explain_failure

KILLED = """[rank0]: RuntimeError: [../gloo/transport/tcp/pair.cc:561] Connection closed by peer [127.0.0.1]:50366.
srun: error: vm: task 1: Killed
srun: launch/slurm: _step_signal: Terminating StepId=10.0
slurmstepd-vm: error: *** STEP 10.0 ON vm CANCELLED AT 2026-11-26T18:28:12 ***
srun: error: vm: task 0: Terminated
srun: Force Terminated StepId=10.0
"""
RAISED = """submitit ERROR (2026-11-26 18:28:12,255) - Submitted job triggered an exception
Traceback (most recent call last):
  File "/x/vis/core/engine.py", line 330, in _train_epoch
    raise RunError(f"loss is {loss.item()} at epoch {self.epoch} iteration {it}", str(self.out),
vis.core.errors.RunError: error: loss is nan at epoch 3 iteration 7 (out): stopped without overwriting
srun: error: vm: task 0: Exited with exit code 1
srun: launch/slurm: _step_signal: Terminating StepId=11.0
srun: error: vm: task 1: Terminated
"""


def job(stderr: str, state: str):
    paths = SimpleNamespace(stdout="out/slurm/12_0_log.out", stderr="out/slurm/12_0_log.err")
    return SimpleNamespace(job_id="12", stderr=lambda: stderr, state=state, paths=paths,
                           get_info=lambda mode: {"State": state})


def test_a_killed_rank_is_named_not_the_error_it_caused_elsewhere():
    err = explain_failure(job(KILLED, "FAILED"), RuntimeError("Connection closed by peer"))
    assert err.what == "job 12 lost rank 1 (Killed); the other ranks were stopped"


def test_an_exception_in_the_run_is_reported_by_its_own_line():
    err = explain_failure(job(RAISED, "FAILED"), RuntimeError("Job (task=0) failed during processing with trace:\n"
                                                             + RAISED + "\nYou can check full logs ..."))
    assert err.what.startswith("job 12 failed (FAILED): vis.core.errors.RunError: error: loss is nan at epoch 3")


def test_a_cancelled_job_says_so():
    err = explain_failure(job("slurmstepd: *** JOB 12 CANCELLED ***", "CANCELLED by 0"), RuntimeError("no result"))
    assert err.what == "job 12 was cancelled (CANCELLED by 0)"
