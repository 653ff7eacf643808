"""Helpers for the test suites of vis packages: run a console script, compare checkpoints."""

from __future__ import annotations

import os
import subprocess
import sys
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
    """The model state of <out_dir>/checkpoints/last.pt."""
    return torch.load(Path(out_dir) / "checkpoints" / "last.pt", weights_only=True)["model"]


def assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"
