"""Launching through submitit's local executor (no SLURM needed): the job runs and returns; USR2 (preemption
/ time-out warning) makes it write last.pt, requeue, and the requeued run resumes to bitwise the same
weights. test_slurm.py proves the same on a real SLURM."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from vis.core.cli import parse
from vis.core.launch import slurm_parameters, submit
from vis.core.testing import (
    LOCAL_JOB,
    assert_bitwise_equal,
    final_weights,
    slurm_reachable,
    submitted_log,
    wait_for_step,
)
from vis.mae.cli import linprobe, visualize
from vis.mae.cli import pretrain as entry
from vis.mae.config import PretrainConfig
from vis.mae.pretrain import main
from vis.mae.recipes import PRETRAIN_RECIPES as RECIPES

run = entry.run

LOCAL = LOCAL_JOB


@pytest.mark.skipif(slurm_reachable(), reason="tested on the real SLURM (test_slurm.py)")
def test_nodes_option_submits_runs_and_returns(tmp_path, fast_args, capsys):
    out = tmp_path / "job"
    result = run([*fast_args, "--epochs", "1", "--output-dir", str(out), *LOCAL])  # what the command does
    log_path = submitted_log(capsys.readouterr().out)
    assert log_path.is_file() and log_path.is_relative_to(out / "slurm")
    assert (out / "checkpoints" / "last.pt").is_file() and result["step"] == 22
    assert "global batch 64" in log_path.read_text()


def _task_pid(controller_pid: int) -> int:
    for _ in range(200):
        out = subprocess.run(["pgrep", "-P", str(controller_pid)], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
        time.sleep(0.1)
    raise AssertionError("job task did not start")


@pytest.mark.skipif(slurm_reachable(), reason="tested on the real SLURM (test_slurm.py)")
def test_preempted_job_requeues_and_resumes_bitwise(tmp_path, fast_args, mae_pretrain):
    args = [*fast_args, "--log-every", "1", "--num-workers", "0"]
    ref = mae_pretrain(*args, "--output-dir", tmp_path / "ref")
    assert ref.returncode == 0, ref.stderr[-2000:]

    out = tmp_path / "job"
    cfg = parse(PretrainConfig, RECIPES, [*args, "--output-dir", str(out), *LOCAL])
    job = submit(cfg, main)
    pid = _task_pid(job._process.pid)
    wait_for_step(out, 5)
    os.kill(pid, signal.SIGUSR2)  # what SLURM sends before a time limit, and `scancel --signal=USR2`
    job.result()
    log = Path(job.paths.stdout).read_text()
    assert "preempted: last.pt written, requeueing" in log
    assert "resumed from" in log
    assert_bitwise_equal(final_weights(tmp_path / "ref"), final_weights(out))


def test_downstream_entry_points_take_the_same_launch_options(tmp_path, tiny_pretrained, capsys):
    ckpt = tiny_pretrained[0] / "checkpoints" / "last.pt"
    linprobe.run(["--recipe", "tiny", "--finetune", str(ckpt), "--epochs", "1", "--warmup-epochs", "0",
                  "--stop-after-steps", "3", "--output-dir", str(tmp_path / "lp"), *LOCAL])
    assert submitted_log(capsys.readouterr().out).is_relative_to(tmp_path / "lp")
    assert (tmp_path / "lp" / "checkpoints" / "last.pt").is_file()
    # mae-visualize takes the same options to the same SLURM request (its job is linprobe's path above)
    options = [*LOCAL, "--partition", "p", "--account", "a", "--cpus-per-task", "2"]
    cfg = visualize.parse(["--checkpoint", str(ckpt), *options])
    assert slurm_parameters(cfg.launch) == slurm_parameters(linprobe.parse(options).launch)
    assert cfg.launch.submits and cfg.launch.cluster == "local"
