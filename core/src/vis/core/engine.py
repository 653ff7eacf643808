"""The training loop every vis method uses.

A method hands the Trainer a `Task`: its model, its training data, a forward function returning
{"loss": ..., other scalars}, its parameter groups and optional hooks. The Trainer owns everything else:
per-iteration lr (warm-up + cosine, times each group's lr_scale), gradient accumulation (no all-reduce on
non-final micro-steps), clipping, AMP, non-finite loss detection, logging, checkpoints and exact resume,
under DDP or FSDP2 (--parallel fsdp: sharded parameters, gradients, optimizer state and checkpoints).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn
import yaml

from vis.core import checkpoint as ckpt
from vis.core import fsdp
from vis.core.config import TrainConfig
from vis.core.data.loader import SeededDataset, ShardedBatchSampler, make_loader
from vis.core.dist import DistContext, any_rank, barrier, mean_over_ranks
from vis.core.errors import RunError, UserError
from vis.core.launch import PREEMPTION
from vis.core.logger import MetricLog, format_line, progress
from vis.core.models.vit import Block
from vis.core.optim import LARS, effective_lr, warmup_cosine

log = logging.getLogger("vis")

Batch = dict[str, Any]


@dataclass
class Task:
    """What a method supplies to the Trainer."""

    model: nn.Module
    train_data: SeededDataset
    forward: Callable[[nn.Module, Batch], dict[str, torch.Tensor]]
    """(model as wrapped for training, batch on device) -> {"loss": scalar tensor, other scalars}."""
    param_groups: Callable[[nn.Module], list[dict]]
    optimizer: str = "adamw"
    betas: tuple[float, float] = (0.9, 0.999)
    after_step: Callable[[int], None] | None = None
    """Called after each optimizer step with the step count (e.g. a momentum-encoder update)."""
    evaluate: Callable[[int, nn.Module], dict[str, float]] | None = None
    """Called on every rank at the end of each epoch with the epoch index and the model with full weights
    (unsharded under FSDP); its metrics are logged."""
    eval_every: int = 1
    best_metric: str | None = None
    """A metric of `evaluate` (higher is better); the checkpoint with its best value is kept as best.pt."""
    fsdp_units: tuple[type[nn.Module], ...] = (Block,)
    """Module types that become their own FSDP unit under --parallel fsdp (the transformer blocks)."""


def _to_device(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class Trainer:
    """Runs `task` under `cfg` on this process; call `fit()`."""

    def __init__(self, cfg: TrainConfig, task: Task, ctx: DistContext):
        self.cfg, self.task, self.ctx = cfg, task, ctx
        self.out = Path(cfg.output_dir)
        self.ckpt_dir = self.out / "checkpoints"
        self.fsdp = cfg.parallel == "fsdp" and ctx.distributed
        if cfg.parallel == "fsdp" and not ctx.distributed:
            log.info("--parallel fsdp with one process: nothing to shard, training unsharded")
        # an unsharded copy for evaluation hooks and figures (kept on the CPU until first used)
        self._eval_copy = copy.deepcopy(task.model) if self.fsdp else None
        self.model = task.model.to(ctx.device)
        if self.fsdp:
            self.model = fsdp.shard_model(self.model, task.fsdp_units)
            self.wrapped: nn.Module = self.model
        elif ctx.distributed:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.wrapped = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        else:
            self.wrapped = self.model
        self.sampler = ShardedBatchSampler(len(task.train_data), cfg.batch_size, ctx.world_size, ctx.rank, cfg.seed)
        # whole accumulation groups only, so an optimizer step never spans two epochs
        self.iters_per_epoch = self.sampler.batches_per_epoch() // cfg.accum_iter * cfg.accum_iter
        if self.iters_per_epoch == 0:
            raise UserError(
                f"dataset of {len(task.train_data)} samples is smaller than one step "
                f"({cfg.batch_size} x {cfg.accum_iter} x {ctx.world_size} processes)", "--batch-size",
                "lower --batch-size or --accum-iter",
            )
        self.global_batch = cfg.batch_size * cfg.accum_iter * ctx.world_size
        self.base_lr = effective_lr(cfg.blr, cfg.lr, self.global_batch)
        self.optimizer = self._build_optimizer()
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.precision)
        self.scaler = torch.amp.GradScaler(ctx.device.type, enabled=cfg.precision == "fp16")
        self.epoch, self.iter_in_epoch, self.step = 0, 0, 0
        self.samples_seen, self.samples_skipped = 0, 0
        self.stopped = False
        self.best: float | None = None

    def _build_optimizer(self) -> torch.optim.Optimizer:
        groups = self.task.param_groups(self.model)
        if self.task.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=self.base_lr, betas=self.task.betas)
        if self.task.optimizer == "lars":
            return LARS(groups, lr=self.base_lr)
        if self.task.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=self.base_lr, momentum=0.9)
        raise ValueError(f"unknown optimizer {self.task.optimizer}")

    # ---------------------------------------------------------------- checkpoints
    @property
    def last_path(self) -> Path:
        return self.ckpt_dir / "last.pt"

    def state_dict(self) -> dict[str, Any]:
        rngs = [None] * self.ctx.world_size
        if self.ctx.distributed:
            dist.all_gather_object(rngs, ckpt.rng_state())
        else:
            rngs = [ckpt.rng_state()]
        weights = {} if self.fsdp else {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}
        return {
            "format": ckpt.FORMAT,
            **weights,
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "iter_in_epoch": self.iter_in_epoch,
            "step": self.step,
            "samples": {"seen": self.samples_seen, "skipped": self.samples_skipped},
            "best": self.best,
            "rng": rngs,
            "config": self.cfg.to_dict(),
            "env": ckpt.environment(self.ctx.world_size, self.cfg.precision),
        }

    def save(self, periodic: bool = False, best: bool = False) -> None:
        """Write last.pt (plus checkpoint-<epoch>.pt when periodic, best.pt when best) atomically on rank 0.
        Under FSDP every rank first writes its shards into a new folder, which these files then name."""
        state = self.state_dict()  # collective: every rank takes part
        try:
            if self.fsdp:
                state["sharded"] = self._save_shards()
            if self.ctx.is_main:
                if periodic:
                    ckpt.save_atomic(state, self.ckpt_dir / f"checkpoint-{self.epoch - 1}.pt")
                if best:
                    ckpt.save_atomic(state, self.ckpt_dir / "best.pt")
                ckpt.save_atomic(state, self.last_path)
                if self.fsdp:
                    self._prune_shards()
        except OSError as e:
            raise RunError(f"could not write a checkpoint at step {self.step}: {e.strerror or e}", str(self.ckpt_dir),
                           "the previous last.pt is kept; free space or choose another --output-dir, then rerun "
                           "the same command") from None
        barrier()

    def _save_shards(self) -> str:
        name = [f"shards-{self.step:08d}-{uuid.uuid4().hex[:8]}"]
        dist.broadcast_object_list(name, src=0)  # one folder name on every rank
        fsdp.save_sharded(self.model, self.optimizer, self.ckpt_dir / name[0])
        return name[0]

    def _prune_shards(self) -> None:
        """Remove shard folders no checkpoint file names any more (superseded, or left by an interrupted save)."""
        keep = {ckpt.load(p).get("sharded") for p in self.ckpt_dir.glob("*.pt")}
        for folder in self.ckpt_dir.glob("shards-*"):
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def eval_model(self) -> nn.Module:
        """The model with full weights on this rank, for evaluation and figures; collective under FSDP."""
        if self._eval_copy is None:
            return self.model
        self._eval_copy.load_state_dict(fsdp.full_state(self.model))
        return self._eval_copy.to(self.ctx.device)

    def resume_path(self) -> Path | None:
        r = self.cfg.resume
        if r == "none":
            return None
        if r == "auto":
            return self.last_path if self.last_path.exists() else None
        return Path(r)

    def load(self, path: Path) -> None:
        state = ckpt.load(path)
        missing = {"epoch", "step", "iter_in_epoch", "rng"} - state.keys()
        if "sharded" not in state:
            missing |= {"model", "optimizer"} - state.keys()
        if missing:
            raise UserError(f"not a vis training checkpoint (missing {', '.join(sorted(missing))})", str(path),
                            "pass weights with --checkpoint/--finetune instead of --resume")
        if ("sharded" in state) != self.fsdp:
            written = "with" if "sharded" in state else "without"
            raise UserError(f"checkpoint was written {written} --parallel fsdp on several processes", str(path),
                            "resume with the parallel mode and world size it was written with")
        if self.fsdp and state["env"]["world_size"] != self.ctx.world_size:
            raise UserError(f"sharded checkpoint of {state['env']['world_size']} processes, this run has "
                            f"{self.ctx.world_size}", str(path), "resume with the same world size")
        try:
            if self.fsdp:
                fsdp.load_sharded(self.model, self.optimizer, Path(path).parent / state["sharded"])
            else:
                self.model.load_state_dict(state["model"])
                self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise UserError("checkpoint does not match this model", str(path),
                            f"{str(e).splitlines()[0][:200]}") from None
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.iter_in_epoch, self.step = state["epoch"], state["iter_in_epoch"], state["step"]
        self.samples_seen = state["samples"]["seen"]
        self.samples_skipped = state["samples"]["skipped"]
        self.best = state.get("best")
        rngs = state["rng"]
        if len(rngs) == self.ctx.world_size:
            ckpt.set_rng_state(rngs[self.ctx.rank])
        old_gb = state["config"].get("batch_size", 0) * state["config"].get("accum_iter", 1) * \
            state["env"].get("world_size", 1)
        if old_gb != self.global_batch:
            log.warning(f"resuming with global batch {self.global_batch}, checkpoint used {old_gb}")
        log.info(f"resumed from {path}: epoch {self.epoch}, iteration {self.iter_in_epoch}, step {self.step}")

    # ---------------------------------------------------------------- loop
    def _prepare_output(self) -> None:
        if self.ctx.is_main:
            try:
                self.ckpt_dir.mkdir(parents=True, exist_ok=True)
                probe = self.ckpt_dir / ".write-test"
                probe.write_bytes(b"ok")
                probe.unlink()
            except OSError as e:
                raise UserError("output folder is not writable", str(self.out), e.strerror or str(e)) from None
            tmp = self.out / "config.yaml.tmp"
            tmp.write_text(yaml.safe_dump(self.cfg.to_dict(), sort_keys=False))
            tmp.replace(self.out / "config.yaml")
        barrier()

    def _set_lr(self, iteration: int) -> None:
        e = self.epoch + iteration / self.iters_per_epoch
        lr = warmup_cosine(e, self.base_lr, self.cfg.min_lr, self.cfg.warmup_epochs, self.cfg.epochs)
        for g in self.optimizer.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)

    def _lr_record(self) -> dict[str, float]:
        return {f"lr/{g.get('name', i)}": g["lr"] for i, g in enumerate(self.optimizer.param_groups)}

    def _count_skipped(self, batch: Batch) -> None:
        skipped = batch.pop("skipped", [])
        n_good = len(batch["index"]) if "index" in batch else 0
        self.samples_seen += n_good + len(skipped)
        for name in skipped:
            log.warning(f"skipped unreadable sample {name}")
        self.samples_skipped += len(skipped)
        frac = self.samples_skipped / max(self.samples_seen, 1)
        if skipped and (frac > self.cfg.max_skipped_fraction or n_good == 0):
            raise RunError(f"{self.samples_skipped} of {self.samples_seen} samples unreadable ({frac:.1%})",
                           self.cfg.data, f"above --max-skipped-fraction {self.cfg.max_skipped_fraction}; "
                           "fix or remove the files named above")

    def fit(self) -> dict[str, Any]:
        """Train until cfg.epochs (or cfg.stop_after_steps); returns the last logged metrics."""
        cfg, ctx = self.cfg, self.ctx
        path = self.resume_path()
        if path is not None:
            self.load(path)  # before writing anything, so a bad checkpoint leaves the folder untouched
        self._prepare_output()
        mlog = MetricLog(self.out, ctx.is_main, resume_step=self.step)
        log.info(f"batch per device {cfg.batch_size} x accum_iter {cfg.accum_iter} x world size "
                 f"{ctx.world_size} = global batch {self.global_batch}; lr {self.base_lr:.3e} "
                 f"(blr {cfg.blr:g}); {self.iters_per_epoch // cfg.accum_iter} steps per epoch")
        last: dict[str, Any] = {}
        if self.epoch >= cfg.epochs:
            log.info(f"training already complete ({self.epoch} of {cfg.epochs} epochs); raise --epochs to go on")
        try:
            while self.epoch < cfg.epochs:
                last = self._train_epoch(mlog) or last
                if self.stopped:
                    return last
                self.epoch += 1
                self.iter_in_epoch = 0
                improved = False
                if self.task.evaluate and (self.epoch % self.task.eval_every == 0 or self.epoch == cfg.epochs):
                    metrics = self.task.evaluate(self.epoch - 1, self.eval_model())
                    key = self.task.best_metric
                    if key and key in metrics and (self.best is None or metrics[key] > self.best):
                        self.best, improved = metrics[key], True
                    if metrics:
                        last = {"epoch": self.epoch - 1, "step": self.step, **metrics}
                        if key and self.best is not None:
                            last[f"best_{key}"] = self.best
                        mlog.write(last)
                        log.info(format_line(last))
                periodic = self.epoch % cfg.save_every == 0 or self.epoch == cfg.epochs
                self.save(periodic=periodic, best=improved)
                if self._should_stop(saved=True):
                    return last
        finally:
            mlog.close()
        return last

    def _no_sync(self) -> contextlib.AbstractContextManager:
        return fsdp.no_gradient_sync(self.model) if self.fsdp else self.wrapped.no_sync()

    def _should_stop(self, saved: bool) -> bool:
        """At a step boundary: on preemption (any rank) save and requeue; after --stop-after-steps save and
        stop."""
        if any_rank(PREEMPTION.requested, self.ctx.device):
            if not saved:
                self.save()
            PREEMPTION.requeue(self.ctx.rank)
        if self.cfg.stop_after_steps and self.step >= self.cfg.stop_after_steps:
            if not saved:
                self.save()
            log.info(f"stopped after {self.step} steps as asked; rerun the same command to continue")
            self.stopped = True
        return self.stopped

    def _train_epoch(self, mlog: MetricLog) -> dict[str, Any] | None:
        cfg, ctx = self.cfg, self.ctx
        accum = cfg.accum_iter
        self.sampler.set_epoch(self.epoch, self.iter_in_epoch)
        loader = make_loader(self.task.train_data, self.sampler, cfg.num_workers)
        self.model.train()
        bar = progress(self.iters_per_epoch - self.iter_in_epoch, f"epoch {self.epoch}", ctx.is_main)
        last, t0, n_img = None, time.time(), 0
        autocast = torch.autocast(ctx.device.type, dtype=self.amp_dtype or torch.float32,
                                  enabled=self.amp_dtype is not None)
        for it, batch in enumerate(loader, start=self.iter_in_epoch):
            if it >= self.iters_per_epoch:
                break
            self._count_skipped(batch)
            batch = _to_device(batch, ctx.device)
            if it % accum == 0:
                self._set_lr(it)
            boundary = (it + 1) % accum == 0
            sync = contextlib.nullcontext() if boundary or not ctx.distributed else self._no_sync()
            with sync:
                with autocast:
                    out = self.task.forward(self.wrapped, batch)
                loss = out["loss"]
                if any_rank(not math.isfinite(loss.item()), ctx.device):
                    raise RunError(f"loss is {loss.item()} at epoch {self.epoch} iteration {it}", str(self.out),
                                   "stopped without overwriting the last checkpoint; lower the lr or use bf16")
                self.scaler.scale(loss / accum).backward()
            n_img += len(batch["index"])
            if bar:
                bar.update(1)
            if not boundary:
                continue
            self.scaler.unscale_(self.optimizer)
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad or float("inf"))
            if hasattr(grad_norm, "full_tensor"):  # a DTensor under FSDP
                grad_norm = grad_norm.full_tensor()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            self.iter_in_epoch = it + 1
            if self.task.after_step:
                self.task.after_step(self.step)
            if self.step % cfg.log_every == 0 or self.iter_in_epoch == self.iters_per_epoch:
                dt = time.time() - t0
                last = {"epoch": self.epoch, "step": self.step, "loss": mean_over_ranks(loss),
                        **{k: v.item() for k, v in out.items() if k != "loss" and torch.is_tensor(v) and v.ndim == 0},
                        "grad_norm": grad_norm.item(), **self._lr_record(),
                        "img_per_s": n_img * ctx.world_size / max(dt, 1e-9)}
                mlog.write(last)
                log.info(format_line(last))
                t0, n_img = time.time(), 0
            if self.iter_in_epoch == self.iters_per_epoch:
                break  # fit() saves and checks for a stop at the epoch end
            if self._should_stop(saved=False):
                break
            if cfg.save_every_steps and self.step % cfg.save_every_steps == 0:
                self.save()
        if bar:
            bar.close()
        return last
