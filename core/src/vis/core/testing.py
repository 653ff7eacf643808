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


HEAVY_OPTIONAL = {"av", "pycocotools", "faster-coco-eval", "webdataset", "open-clip-torch", "torch-fidelity",
                  "diffusers", "torchcodec", "decord"}
"""Distributions that belong to other methods' optional extras: no plain method install may pull them."""


def check_installs_alone(package: str, root: Path, tmp_path: Path, code: str) -> str:
    """Install vis-core and `package` (e.g. "vis-mocov3") alone: wheels built without the workspace, the locked
    third-party pins of its dependency tree, offline, into a fresh venv. Assert that no other vis distribution
    and no heavy optional dependency came with it, that `<name>-pretrain --help` answers, then run `code`
    in that venv and return its last line of output."""
    import re

    def sh(*cmd, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
        assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
        return proc

    uv = shutil.which("uv")
    assert uv is not None, "uv is not on PATH"
    dist = tmp_path / "dist"
    for pkg in ("vis-core", package):
        sh(uv, "build", "--package", pkg, "--no-sources", "--wheel", "-o", dist, cwd=root)
    lock = tmp_path / "pylock.toml"
    sh(uv, "export", "--package", package, "--no-emit-workspace", "--format", "pylock.toml", "-o", lock, cwd=root)
    venv = tmp_path / "venv"
    py = venv / "bin" / "python"
    sh(uv, "venv", venv, "--python", sys.executable)
    sh(uv, "pip", "install", "--offline", "--python", py, "-r", lock)
    sh(uv, "pip", "install", "--offline", "--python", py, *sorted(dist.glob("*.whl")))
    sh(uv, "pip", "check", "--python", py)
    freeze = sh(uv, "pip", "freeze", "--python", py).stdout.splitlines()
    names = {re.split(r"==| @ ", line)[0].strip().lower() for line in freeze if line.strip()}
    assert {n for n in names if n.startswith("vis-")} == {"vis-core", package}
    assert not names & HEAVY_OPTIONAL
    short = package.removeprefix("vis-").replace("_", "-")
    assert "--recipe" in sh(venv / "bin" / f"{short}-pretrain", "--help").stdout
    return sh(py, "-c", code, cwd=tmp_path).stdout.strip().splitlines()[-1]


def foreign_modules_code(package: str) -> str:
    """Python code printing the sorted modules of other vis packages and heavy optional libraries loaded so
    far (append it to code that imports and runs `package`, e.g. "mocov3")."""
    return ("import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {'av', 'pycocotools', "
            "'webdataset', 'open_clip', 'torch_fidelity'} or (m.startswith('vis.') and m.split('.')[1] not in "
            f"{{'core', {package!r}}})))")
