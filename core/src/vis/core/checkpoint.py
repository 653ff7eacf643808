"""One checkpoint format for every method, written atomically through iopath and read with
weights_only=True, so a file that would run code when unpickled is refused."""

from __future__ import annotations

import functools
import os
import pickle
import random
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from iopath.common.file_io import g_pathmgr

from vis.core.errors import UserError

FORMAT = "vis-checkpoint/1"


def save_atomic(state: dict[str, Any], path: str | Path) -> None:
    """Write to `<path>.tmp`, fsync, then rename over `path`: a crash or a full disk mid-write leaves the
    previous file untouched."""
    path = str(path)
    tmp = f"{path}.tmp"
    g_pathmgr.mkdirs(os.path.dirname(path) or ".")
    try:
        with g_pathmgr.open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            if hasattr(f, "fileno"):
                os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException as e:
        if g_pathmgr.exists(tmp):
            g_pathmgr.rm(tmp)
        os_error = _os_error_behind(e)
        if os_error is not None and os_error is not e:
            raise os_error from None  # torch.save reports a full disk as a RuntimeError of its zip writer
        raise


def _os_error_behind(e: BaseException | None) -> OSError | None:
    while e is not None and not isinstance(e, OSError):
        e = e.__context__
    return e


def _replace(src: str, dst: str) -> None:
    """Atomic rename over an existing file (iopath's mv refuses to overwrite)."""
    if "://" in dst:
        if g_pathmgr.exists(dst):
            g_pathmgr.rm(dst)
        g_pathmgr.mv(src, dst)
    else:
        os.replace(src, dst)


def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with weights_only=True; any problem becomes a one-line UserError naming the file."""
    path = str(path)
    if not g_pathmgr.exists(path):
        raise UserError("checkpoint not found", path, "check the path")
    try:
        with g_pathmgr.open(path, "rb") as f:
            state = torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if found is None:  # not a pickle at all
            raise UserError("cannot read checkpoint (not a PyTorch file)", path,
                            "the file is corrupt; delete it or point to another") from None
        raise UserError(
            f"refused to load checkpoint: it would import {found.group(1)} when unpickled", path,
            "only files of tensors and plain containers are loaded (weights_only=True)",
        ) from None
    except Exception as e:
        raise UserError(f"cannot read checkpoint ({type(e).__name__})", path, "the file is truncated or not a "
                        "PyTorch checkpoint; delete it or point to another") from None
    if not isinstance(state, dict):
        raise UserError("checkpoint is not a dictionary", path, "expected a file written by torch.save({...})")
    return state


def rng_state() -> dict[str, Any]:
    """Every RNG this process uses, as tensors and plain lists (loadable with weights_only=True)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
        "python": [py_state[0], list(py_state[1]), py_state[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    random.setstate((state["python"][0], tuple(state["python"][1]), state["python"][2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def environment(world_size: int, precision: str) -> dict[str, Any]:
    """What a reproduction needs to know: package versions, git SHA, world size, precision, hardware."""
    return {**_software(), "world_size": world_size, "precision": precision,
            "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"}


@functools.lru_cache(maxsize=1)
def _software() -> dict[str, Any]:
    """Versions and git SHA, looked up once per process (not at every checkpoint)."""
    versions = {}
    for pkg in ("torch", "torchvision", "timm", "vis-core"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return {"versions": versions, "git_sha": sha}
