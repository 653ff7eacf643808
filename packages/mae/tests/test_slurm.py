"""mae-pretrain on a real SLURM (tools/slurm/local-cluster.sh up; .ci/run starts it): submission, preemption,
time limit, a lost rank, scancel, and job arrays. The commands are the ones docs/slurm.md shows."""

import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from vis.core.cli import parse
from vis.core.convert import read_checkpoint
from vis.core.errors import RunError
from vis.core.launch import submit, wait, wait_all
from vis.core.testing import BIN, assert_bitwise_equal, final_weights, slurm_reachable, wait_for_step
from vis.mae.config import PretrainConfig
from vis.mae.pretrain import entry, main
from vis.mae.recipes import PRETRAIN_RECIPES

pytestmark = [pytest.mark.slurm, pytest.mark.skipif(not slurm_reachable(), reason="no reachable SLURM controller")]

CPU_JOB = ["--nodes", "1", "--gpus-per-node", "0", "--cpus-per-task", "1", "--timeout-min", "10"]
ONE_TASK = [*CPU_JOB, "--tasks-per-node", "1"]
TWO_TASKS = [*CPU_JOB, "--tasks-per-node", "2"]
PREEMPTED = "preempted: last.pt written, requeueing"


def final_state(job_id: str, timeout: float = 60) -> str:
    """The job's state in SLURM accounting once it is final (results arrive before accounting catches up)."""
    end, state = time.time() + timeout, ""
    while time.time() < end:
        out = subprocess.run(["sacct", "-j", job_id, "-X", "-n", "-o", "State"], capture_output=True, text=True)
        state = out.stdout.strip()
        if state and state not in ("PENDING", "RUNNING", "COMPLETING", "REQUEUED"):
            return state
        time.sleep(1)
    return state


def logged(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def submit_pretrain(*args):
    """What `mae-pretrain ARGS --nodes 1 ...` does, from this process (no second interpreter start-up)."""
    return submit(parse(PretrainConfig, PRETRAIN_RECIPES, [str(a) for a in args]), main)


def resumed_steps(job) -> list[int]:
    return [int(s) for s in re.findall(r"resumed from \S+: epoch \d+, iteration \d+, step (\d+)", job.stdout() or "")]


def wait_for_resume(job, count: int, timeout: float = 120) -> int:
    """Wait until the job's log shows its `count`-th resume; return the step it resumed at."""
    end = time.time() + timeout
    while time.time() < end:
        steps = resumed_steps(job)
        if len(steps) >= count:
            return steps[count - 1]
        assert not job.done(), (job.stdout() or "")[-2000:] + (job.stderr() or "")[-2000:]
        time.sleep(0.2)
    raise AssertionError(f"job {job.job_id} did not resume a {count}. time in {timeout}s")


def task_pids(job_folder: Path) -> dict[int, int]:
    """SLURM_PROCID -> pid of each running submitit task of the jobs whose submitit folder is `job_folder`."""
    pids = {}
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if b"submitit.core._submit" not in cmd or str(job_folder).encode() not in cmd:
                continue
            env = dict(x.split(b"=", 1) for x in (proc / "environ").read_bytes().split(b"\0") if b"=" in x)
            pids[int(env[b"SLURM_PROCID"])] = int(proc.name)
        except (OSError, KeyError, ValueError):
            continue
    return pids


def test_two_rank_job_matches_torchrun(tmp_path, two_rank_args, two_rank_reference, gloo_env, mae_pretrain):
    out = tmp_path / "slurm"
    job = mae_pretrain(*two_rank_args, "--output-dir", out, *TWO_TASKS, "--wait")
    assert job.returncode == 0, job.stdout[-2000:] + job.stderr[-2000:]
    found = re.search(r"submitted job (\d+) \(slurm\); log: (\S+)", job.stdout)
    assert found, job.stdout
    job_id, log = found.group(1), Path(found.group(2))
    assert log.is_file() and log.is_relative_to(out / "slurm") and job_id in log.name
    assert "world size 2 = global batch 64" in log.read_text()
    assert final_state(job_id) == "COMPLETED"
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))


def test_preempted_twice_requeues_and_resumes_bitwise(tmp_path, two_rank_args, two_rank_reference, gloo_env):
    rng = random.Random()
    out = tmp_path / "job"
    job = submit_pretrain(*two_rank_args, "--output-dir", out, *TWO_TASKS)
    resumed_at = 0
    for n in (1, 2):
        target = rng.randint(resumed_at + 2, resumed_at + 15)  # of 88 steps
        wait_for_step(out, target, alive=lambda: not job.done())
        subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True)  # what a preemption sends
        resumed_at = wait_for_resume(job, n)
        assert resumed_at >= target, (target, resumed_at)
    wait(job)
    log = job.stdout()
    assert log.count(PREEMPTED) == 2 and len(resumed_steps(job)) == 2
    assert final_state(job.job_id) == "COMPLETED"
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))


def test_time_limit_requeues_and_completes(tmp_path, fast_args):
    # a 1-minute limit with a 15 s delay signals 15 to 45 s into each run (SLURM checks every 30 s); 20 epochs
    # take longer than that on one CPU
    out = tmp_path / "job"
    job = submit_pretrain(*fast_args, "--epochs", "20", "--log-every", "22", "--num-workers", "0",
                          "--output-dir", out, *ONE_TASK, "--timeout-min", "1")
    result = wait(job)
    log = job.stdout()
    assert PREEMPTED in log and resumed_steps(job), log[-3000:]
    assert result["step"] == 20 * 22
    assert final_state(job.job_id) == "COMPLETED"


def test_lost_rank_fails_fast_names_it_and_rerun_resumes(tmp_path, two_rank_args, two_rank_reference, gloo_env):
    out = tmp_path / "job"
    args = [*two_rank_args, "--save-every-steps", "4", "--output-dir", out, *TWO_TASKS]
    job = submit_pretrain(*args)
    wait_for_step(out, random.randint(9, 40), alive=lambda: not job.done())
    pids = task_pids(out / "slurm")
    assert set(pids) == {0, 1}, pids
    killed_at = time.time()
    os.kill(pids[1], signal.SIGKILL)
    with pytest.raises(RunError, match=r"lost rank 1 \(Killed\)"):
        wait(job)
    assert time.time() - killed_at < 90
    assert not task_pids(out / "slurm")  # nothing left hanging
    saved = read_checkpoint(out / "checkpoints" / "last.pt")["step"]
    assert saved >= 8 and saved % 4 == 0

    again = submit_pretrain(*args)  # the same command again
    wait(again)
    assert resumed_steps(again) == [saved]
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))


def test_cancelled_job_is_reported_by_the_submitting_side(tmp_path, fast_args):
    out = tmp_path / "job"
    cmd = [str(BIN / "mae-pretrain"), *fast_args, "--epochs", "100", "--output-dir", str(out), *ONE_TASK, "--wait"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        job_id = re.search(r"submitted job (\d+)", first).group(1)
        wait_for_step(out, 1, alive=lambda: proc.poll() is None)
        subprocess.run(["scancel", job_id], check=True)
        cancelled_at = time.time()
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert f"error: job {job_id} was cancelled" in err, err[-2000:]
    assert time.time() - cancelled_at < 60


def test_array_job_runs_and_collects_four_configurations(tmp_path, fast_args):
    runs = [tmp_path / f"seed{i}" for i in range(4)]
    jobs = entry.submit_array(
        [[*fast_args, "--epochs", "1", "--num-workers", "0", "--seed", str(i), "--output-dir", str(run), *ONE_TASK]
         for i, run in enumerate(runs)], tmp_path / "array")
    array_id = jobs[0].job_id.split("_")[0]
    assert [j.job_id for j in jobs] == [f"{array_id}_{i}" for i in range(4)]
    results = wait_all(jobs)
    for i, (run, result) in enumerate(zip(runs, results, strict=True)):
        assert result["step"] == 22
        assert result["knn_top1"] == logged(run)[-1]["knn_top1"]  # each result is its own run's
        assert read_checkpoint(run / "checkpoints" / "last.pt")["config"]["seed"] == i
    first = final_weights(runs[0])
    for run in runs[1:]:
        other = final_weights(run)
        assert any(not first[k].equal(other[k]) for k in first)  # each seed trained its own model
    assert all(final_state(j.job_id) == "COMPLETED" for j in jobs)
