"""mae-pretrain through a real SLURM (tools/slurm/local-cluster.sh up; .ci/run starts it)."""

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from vis.core.testing import assert_bitwise_equal, final_weights, torchrun


def _controller_reachable() -> bool:
    if shutil.which("sbatch") is None:
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


pytestmark = [pytest.mark.slurm,
              pytest.mark.skipif(not _controller_reachable(), reason="no reachable SLURM controller")]

def _final_state(job_id: str, timeout: float = 60) -> str:
    """The job's state in SLURM accounting once it is final (results arrive before accounting catches up)."""
    end, state = time.time() + timeout, ""
    while time.time() < end:
        out = subprocess.run(["sacct", "-j", job_id, "-X", "-n", "-o", "State"], capture_output=True, text=True)
        state = out.stdout.strip()
        if state and state not in ("PENDING", "RUNNING", "COMPLETING"):
            return state
        time.sleep(1)
    return state


ENV = {"OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}


def test_two_rank_job_matches_torchrun(tmp_path, fast_args, mae_pretrain):
    args = [*fast_args, "--batch-size", "32", "--stop-after-steps", "6", "--num-workers", "0"]
    ref = mae_pretrain(*args, "--output-dir", tmp_path / "torchrun", env=ENV,
                       launcher=torchrun(2, "vis.mae.pretrain", 29741))
    assert ref.returncode == 0, ref.stderr[-2000:]

    out = tmp_path / "slurm"
    job = mae_pretrain(*args, "--output-dir", out, "--nodes", "1", "--tasks-per-node", "2", "--gpus-per-node", "0",
                       "--cpus-per-task", "1", "--timeout-min", "10", "--wait", env=ENV)
    assert job.returncode == 0, job.stdout[-2000:] + job.stderr[-2000:]
    found = re.search(r"submitted job (\d+) \(slurm\); log: (\S+)", job.stdout)
    assert found, job.stdout
    job_id, log = found.group(1), Path(found.group(2))
    assert log.is_file() and log.is_relative_to(out / "slurm") and job_id in log.name
    assert "world size 2 = global batch 64" in log.read_text()
    assert _final_state(job_id) == "COMPLETED"
    assert_bitwise_equal(final_weights(tmp_path / "torchrun"), final_weights(out))
