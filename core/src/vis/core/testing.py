"""Helpers for the test suites of vis packages: run a console script, follow a run, compare checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

BIN = Path(sys.executable).parent


def run_script(name: str, *args: object, timeout: float = 600, env: dict[str, str] | None = None,
               launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run an installed console script (or `launcher + args`) and capture its output."""
    cmd = (launcher or [str(BIN / name)]) + [str(a) for a in args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def torchrun(nproc: int, module: str, port: int) -> list[str]:
    """A torchrun command prefix starting `python -m module` on `nproc` local processes."""
    return [str(BIN / "torchrun"), "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
            "--master-port", str(port), "-m", module]


def final_weights(out_dir: Path) -> dict[str, torch.Tensor]:
    """The model state of <out_dir>/checkpoints/last.pt (read from its shard folder under FSDP)."""
    from vis.core.convert import read_weights

    return read_weights(Path(out_dir) / "checkpoints" / "last.pt")


def assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


def logged_steps(out_dir: Path) -> list[int]:
    """The optimizer steps of the training records in <out_dir>/log.jsonl (empty before the first)."""
    log = Path(out_dir) / "log.jsonl"
    if not log.exists():
        return []
    steps = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line being written, or cut by a killed process
            continue
        if "loss" in record:
            steps.append(record["step"])
    return steps


def wait_for_step(out_dir: Path, step: int, timeout: float = 120, alive=lambda: True) -> int:
    """Poll log.jsonl until a step >= `step` is logged; return it. Fails after `timeout` s or once `alive()`
    is false."""
    end = time.time() + timeout
    while time.time() < end and alive():
        steps = logged_steps(out_dir)
        if steps and steps[-1] >= step:
            return steps[-1]
        time.sleep(0.02)
    raise AssertionError(f"no step {step} logged in {out_dir} (last: {logged_steps(out_dir)[-1:]})")


def slurm_reachable() -> bool:
    """sbatch is installed and a SLURM controller answers."""
    if shutil.which("sbatch") is None:
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False
