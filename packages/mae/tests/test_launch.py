"""Launching through submitit's local executor: the job runs and returns; USR2 (preemption / time-out
warning) makes it write last.pt, requeue, and the requeued run resumes to bitwise the same weights."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from vis.core.cli import parse
from vis.core.launch import submit
from vis.core.testing import assert_bitwise_equal, final_weights
from vis.mae.config import PretrainConfig
from vis.mae.pretrain import main
from vis.mae.recipes import PRETRAIN_RECIPES as RECIPES

LOCAL = ["--nodes", "1", "--cluster", "local", "--gpus-per-node", "0", "--tasks-per-node", "1", "--timeout-min", "10"]


def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, mae_pretrain):
    out = tmp_path / "job"
    proc = mae_pretrain(*fast_args, "--epochs", "1", "--output-dir", out, *LOCAL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("submitted job"))
    log_path = Path(line.split("log: ")[1])
    assert log_path.is_file() and log_path.is_relative_to(out / "slurm")
    assert (out / "checkpoints" / "last.pt").is_file()
    assert "global batch 64" in log_path.read_text()


def _task_pid(controller_pid: int) -> int:
    for _ in range(200):
        out = subprocess.run(["pgrep", "-P", str(controller_pid)], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
        time.sleep(0.1)
    raise AssertionError("job task did not start")


def _wait_for_step(log: Path, step: int, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if log.exists():
            steps = [json.loads(x).get("step", 0) for x in log.read_text().splitlines() if x.strip()]
            if steps and max(steps) >= step:
                return
        time.sleep(0.05)
    raise AssertionError(f"no step {step} logged in {timeout}s")


def test_preempted_job_requeues_and_resumes_bitwise(tmp_path, fast_args, mae_pretrain):
    args = [*fast_args, "--log-every", "1", "--num-workers", "0"]
    ref = mae_pretrain(*args, "--output-dir", tmp_path / "ref")
    assert ref.returncode == 0, ref.stderr[-2000:]

    out = tmp_path / "job"
    cfg = parse(PretrainConfig, RECIPES, [*args, "--output-dir", str(out), *LOCAL])
    job = submit(cfg, main)
    pid = _task_pid(job._process.pid)
    _wait_for_step(out / "log.jsonl", 5)
    os.kill(pid, signal.SIGUSR2)  # what SLURM sends before a time limit, and `scancel --signal=USR2`
    job.result()
    log = Path(job.paths.stdout).read_text()
    assert "preempted: last.pt written, requeueing" in log
    assert "resumed from" in log
    assert_bitwise_equal(final_weights(tmp_path / "ref"), final_weights(out))


def test_downstream_entry_points_take_the_same_launch_options(tmp_path, tiny_pretrained):
    from vis.core.testing import run_script

    ckpt = tiny_pretrained[0] / "checkpoints" / "last.pt"
    lp = run_script("mae-linprobe", "--recipe", "tiny", "--finetune", ckpt, "--epochs", "1", "--warmup-epochs", "0",
                    "--output-dir", tmp_path / "lp", *LOCAL)
    assert lp.returncode == 0, lp.stdout[-2000:] + lp.stderr[-2000:]
    assert "submitted job" in lp.stdout and (tmp_path / "lp" / "checkpoints" / "best.pt").is_file()
    vis = run_script("mae-visualize", "--recipe", "tiny", "--checkpoint", ckpt, "--num-samples", "2",
                     "--output-dir", tmp_path / "vis", *LOCAL)
    assert vis.returncode == 0, vis.stdout[-2000:] + vis.stderr[-2000:]
    assert (tmp_path / "vis" / "visualize-seed0.png").is_file()
