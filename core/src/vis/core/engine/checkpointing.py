"""The training state on disk: one format for every method, exact resume, sharded under FSDP.

A checkpoint holds the model, optimizer and scaler states, the loop's position (epoch, iteration in the
epoch, step, sample counters, best metric), every rank's RNG states, the config and the environment. Rank 0
writes it atomically (`vis.core.checkpoint.save_atomic`); under FSDP every rank first writes its shards into
a new folder that the checkpoint file then names.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn

from vis.core import checkpoint as ckpt
from vis.core import fsdp
from vis.core.config import TrainConfig
from vis.core.dist import DistContext, barrier
from vis.core.errors import RunError, UserError

log = logging.getLogger("vis")

PROGRESS = ("epoch", "iter_in_epoch", "step", "samples", "best")
"""The loop's position, saved beside the weights."""


class Checkpointer:
    """Saves and restores `model`, `optimizer`, `scaler` and the loop's progress under `<output_dir>/checkpoints`."""

    def __init__(self, cfg: TrainConfig, ctx: DistContext, model: nn.Module, optimizer: torch.optim.Optimizer,
                 scaler: torch.amp.GradScaler, sharded: bool):
        self.cfg, self.ctx = cfg, ctx
        self.model, self.optimizer, self.scaler, self.sharded = model, optimizer, scaler, sharded
        self.dir = Path(cfg.output_dir) / "checkpoints"

    @property
    def last_path(self) -> Path:
        return self.dir / "last.pt"

    def resume_path(self) -> Path | None:
        """Where --resume points: last.pt when it exists (auto), nothing (none), or the given file."""
        r = self.cfg.resume
        if r == "none":
            return None
        if r == "auto":
            return self.last_path if self.last_path.exists() else None
        return Path(r)

    def _state(self, progress: dict[str, Any]) -> dict[str, Any]:
        rngs = [None] * self.ctx.world_size
        if self.ctx.distributed:
            dist.all_gather_object(rngs, ckpt.rng_state())
        else:
            rngs = [ckpt.rng_state()]
        weights = {} if self.sharded else {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}
        return {
            "format": ckpt.FORMAT, **weights, "scaler": self.scaler.state_dict(), **progress, "rng": rngs,
            "config": self.cfg.to_dict(), "env": ckpt.environment(self.ctx.world_size, self.cfg.precision),
        }

    def save(self, progress: dict[str, Any], periodic: int | None = None, best: bool = False) -> None:
        """Write last.pt (plus checkpoint-<periodic>.pt, best.pt when asked) atomically on rank 0; collective."""
        state = self._state(progress)
        try:
            if self.sharded:
                state["sharded"] = self._save_shards(progress["step"])
            if self.ctx.is_main:
                if periodic is not None:
                    ckpt.save_atomic(state, self.dir / f"checkpoint-{periodic}.pt")
                if best:
                    ckpt.save_atomic(state, self.dir / "best.pt")
                ckpt.save_atomic(state, self.last_path)
                if self.sharded:
                    self._prune_shards()
        except OSError as e:
            raise RunError(f"could not write a checkpoint at step {progress['step']}: {e.strerror or e}",
                           str(self.dir), "the previous last.pt is kept; free space or choose another "
                           "--output-dir, then rerun the same command") from None
        barrier()

    def _save_shards(self, step: int) -> str:
        name = [f"shards-{step:08d}-{uuid.uuid4().hex[:8]}"]
        dist.broadcast_object_list(name, src=0)  # one folder name on every rank
        fsdp.save_sharded(self.model, self.optimizer, self.dir / name[0])
        return name[0]

    def _prune_shards(self) -> None:
        """Remove shard folders no checkpoint file names any more (superseded, or left by an interrupted save)."""
        keep = {ckpt.load(p).get("sharded") for p in self.dir.glob("*.pt")}
        for folder in self.dir.glob("shards-*"):
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def load(self, path: Path, global_batch: int) -> dict[str, Any]:
        """Restore weights, optimizer, scaler and this rank's RNGs from `path`; return the saved progress."""
        state = ckpt.load(path)
        missing = {"epoch", "step", "iter_in_epoch", "rng"} - state.keys()
        if "sharded" not in state:
            missing |= {"model", "optimizer"} - state.keys()
        if missing:
            raise UserError(f"not a vis training checkpoint (missing {', '.join(sorted(missing))})", str(path),
                            "pass weights with --checkpoint/--finetune instead of --resume")
        if ("sharded" in state) != self.sharded:
            written = "with" if "sharded" in state else "without"
            raise UserError(f"checkpoint was written {written} --parallel fsdp on several processes", str(path),
                            "resume with the parallel mode and world size it was written with")
        if self.sharded and state["env"]["world_size"] != self.ctx.world_size:
            raise UserError(f"sharded checkpoint of {state['env']['world_size']} processes, this run has "
                            f"{self.ctx.world_size}", str(path), "resume with the same world size")
        try:
            if self.sharded:
                fsdp.load_sharded(self.model, self.optimizer, Path(path).parent / state["sharded"])
            else:
                self.model.load_state_dict(state["model"])
                self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise UserError("checkpoint does not match this model", str(path),
                            f"{str(e).splitlines()[0][:200]}") from None
        self.scaler.load_state_dict(state["scaler"])
        if len(state["rng"]) == self.ctx.world_size:
            ckpt.set_rng_state(state["rng"][self.ctx.rank])
        saved = state["config"]
        old_gb = saved.get("batch_size", 0) * saved.get("accum_iter", 1) * state["env"].get("world_size", 1)
        if old_gb != global_batch:
            log.warning(f"resuming with global batch {global_batch}, checkpoint used {old_gb}")
        log.info(f"resumed from {path}: epoch {state['epoch']}, iteration {state['iter_in_epoch']}, "
                 f"step {state['step']}")
        return {k: state.get(k) for k in PROGRESS}
