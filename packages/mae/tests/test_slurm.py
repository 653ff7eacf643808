"""mae-pretrain on a real SLURM (tools/slurm/local-cluster.sh up; .ci/run starts it): submission, preemption,
time limit, a lost rank and scancel; job arrays are tested by relgraph-sweep (packages/relgraph/tests/
test_slurm.py). The commands are the ones docs/slurm.md shows."""

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
from vis.core.launch import submit, wait
from vis.core.testing import (
    BIN,
    assert_bitwise_equal,
    final_weights,
    slurm_final_state,
    slurm_reachable,
    wait_for_step,
)
from vis.mae.config import PretrainConfig
from vis.mae.pretrain import main
from vis.mae.recipes import PRETRAIN_RECIPES

pytestmark = [pytest.mark.slurm, pytest.mark.skipif(not slurm_reachable(), reason="no reachable SLURM controller")]

CPU_JOB = ["--nodes", "1", "--gpus-per-node", "0", "--cpus-per-task", "1", "--timeout-min", "10"]
ONE_TASK = [*CPU_JOB, "--tasks-per-node", "1"]
TWO_TASKS = [*CPU_JOB, "--tasks-per-node", "2"]
PREEMPTED = "preempted: last.pt written, requeueing"


def logged(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def submit_pretrain(*args):
    """What `mae-pretrain ARGS --nodes 1 ...` does, from this process (no second interpreter start-up)."""
    return submit(parse(PretrainConfig, PRETRAIN_RECIPES, [str(a) for a in args]), main)


def resumed_steps(log: str) -> list[int]:
    return [int(s) for s in re.findall(r"resumed from \S+: epoch \d+, iteration \d+, step (\d+)", log)]


def wait_for_resume(log: Path, count: int, alive, timeout: float = 120) -> int:
    """Wait until the job log shows its `count`-th resume; return the step it resumed at."""
    end = time.time() + timeout
    while time.time() < end and alive():
        steps = resumed_steps(log.read_text())
        if len(steps) >= count:
            return steps[count - 1]
        time.sleep(0.2)
    raise AssertionError(f"no {count}. resume in {log}: {log.read_text()[-2000:]}")


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


def test_two_rank_job_preempted_twice_equals_torchrun(tmp_path, two_rank_args, two_rank_reference, gloo_env):
    """Submission (job id, log path, two ranks) and preemption at two random steps, in one job."""
    rng = random.Random()
    out = tmp_path / "slurm"
    cmd = [str(BIN / "mae-pretrain"), *two_rank_args, "--output-dir", str(out), *TWO_TASKS, "--wait"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        found = None
        while found is None and proc.poll() is None:
            found = re.search(r"submitted job (\d+) \(slurm\); log: (\S+)", proc.stdout.readline())
        assert found, proc.communicate()
        job_id, log = found.group(1), Path(found.group(2))
        resumed_at = 0
        for n in (1, 2):
            target = rng.randint(resumed_at + 2, resumed_at + 15)  # of 88 steps
            wait_for_step(out, target, alive=lambda: proc.poll() is None)
            subprocess.run(["scancel", "--signal=USR2", job_id], check=True)  # what a preemption sends
            resumed_at = wait_for_resume(log, n, alive=lambda: proc.poll() is None)
            assert resumed_at >= target, (target, resumed_at)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert log.is_file() and log.is_relative_to(out / "slurm") and job_id in log.name
    text = log.read_text()
    assert "world size 2 = global batch 64" in text
    assert text.count(PREEMPTED) == 2 and len(resumed_steps(text)) == 2
    assert slurm_final_state(job_id) == "COMPLETED"
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))


def test_time_limit_requeues_and_completes(tmp_path, fast_args):
    # A 1-minute limit with USR2 15 s before it: SLURM checks limits every 30 s and signals up to one check
    # early, so USR2 comes 15 to 45 s into the job, after the ~10 s start-up (a longer lead could signal
    # before submitit's handler exists, which kills the task: seen with 40 s) and before 32 epochs on one
    # CPU end (~64 s; 24 epochs once ended first).
    out = tmp_path / "job"
    job = submit_pretrain(*fast_args, "--epochs", "32", "--log-every", "22", "--num-workers", "0",
                          "--output-dir", out, *ONE_TASK, "--timeout-min", "1")
    end = time.time() + 120
    while PREEMPTED not in (job.stdout() or ""):
        assert time.time() < end and not job.done(), (job.stdout() or "")[-2000:]
        time.sleep(0.2)
    # Requeued by its time limit. Give the requeued run room to finish: each further 1-minute run would be
    # signalled again at once and prove nothing new.
    subprocess.run(["scontrol", "update", f"JobId={job.job_id}", "TimeLimit=10"], check=True)
    result = wait(job)
    log = job.stdout()
    assert log.count(PREEMPTED) == 1 and len(resumed_steps(log)) == 1, log[-3000:]
    assert result["step"] == 32 * 22
    assert slurm_final_state(job.job_id) == "COMPLETED"


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
    assert resumed_steps(again.stdout()) == [saved]
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))


def test_cancelled_job_is_reported_by_the_submitting_side(tmp_path, fast_args):
    job = submit_pretrain(*fast_args, "--epochs", "100", "--output-dir", tmp_path / "job", *ONE_TASK)
    while subprocess.run(["squeue", "-h", "-j", job.job_id, "-o", "%T"], capture_output=True,
                         text=True).stdout.strip() != "RUNNING":
        time.sleep(0.2)
    subprocess.run(["scancel", job.job_id], check=True)
    cancelled_at = time.time()
    with pytest.raises(RunError, match=f"job {job.job_id} was cancelled"):  # what `--wait` prints, exit 1
        wait(job)
    assert time.time() - cancelled_at < 60


