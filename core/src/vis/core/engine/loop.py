"""The Trainer: the optimisation loop of every vis method.

One DataLoader iterator serves the whole run: its batch sampler walks from the resume position through the
last epoch, so loader workers start once and keep prefetching across epoch ends. The normal step has no host
synchronisation: the non-finite check and the preemption check are batched (see `checks.py`), and logged
values are read only at log steps.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import yaml

from vis.core import fsdp
from vis.core.config import TrainConfig
from vis.core.data.loader import ShardedBatchSampler, make_loader
from vis.core.data.skips import SkipCount
from vis.core.dist import DistContext, barrier, mean_over_ranks
from vis.core.engine.checkpointing import Checkpointer
from vis.core.engine.checks import StepChecks
from vis.core.engine.task import Batch, Task
from vis.core.errors import RunError, UserError
from vis.core.launch import PREEMPTION
from vis.core.logger import MetricLog, format_line, progress
from vis.core.optim import LARC, LARS, effective_lr, warmup_cosine
from vis.core.sync_bn import convert_sync_batchnorm, has_batchnorm

log = logging.getLogger("vis")


def _to_device(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class Trainer:
    """Runs `task` under `cfg` on this process; call `fit()`."""

    def __init__(self, cfg: TrainConfig, task: Task, ctx: DistContext):
        self.cfg, self.task, self.ctx = cfg, task, ctx
        self.out = Path(cfg.output_dir)
        self.fsdp = cfg.parallel == "fsdp" and ctx.distributed
        if cfg.parallel == "fsdp" and not ctx.distributed:
            log.info("--parallel fsdp with one process: nothing to shard, training unsharded")
        # an unsharded copy for evaluation hooks and figures (kept on the CPU until first used)
        self._eval_copy = copy.deepcopy(task.model) if self.fsdp else None
        if ctx.distributed and task.sync_bn and has_batchnorm(task.model):
            convert_sync_batchnorm(task.model, ctx.device)  # children replaced in place: references stay valid
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
        self.base_lr = effective_lr(cfg.blr, cfg.lr, self.global_batch * task.lr_batch_factor)
        self.optimizer = self._build_optimizer()
        self.params = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.precision)
        self.scaler = torch.amp.GradScaler(ctx.device.type, enabled=cfg.precision == "fp16")
        self.checkpoints = Checkpointer(cfg, ctx, self.model, self.optimizer, self.scaler, self.fsdp)
        self.checks = StepChecks(ctx.device)
        self.epoch, self.iter_in_epoch, self.step = 0, 0, 0
        self.skips = SkipCount(cfg.max_skipped_fraction, cfg.data, "training")
        self.stopped = False
        self.best: float | None = None

    def _build_optimizer(self) -> torch.optim.Optimizer:
        groups = self.task.param_groups(self.model)
        if self.task.optimizer == "adamw":
            return torch.optim.AdamW(groups, lr=self.base_lr, betas=self.task.betas)
        if self.task.optimizer == "lars":
            return LARS(groups, lr=self.base_lr)
        if self.task.optimizer == "larc":
            return LARC(groups, lr=self.base_lr)
        if self.task.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=self.base_lr, momentum=0.9, nesterov=self.task.nesterov)
        raise ValueError(f"unknown optimizer {self.task.optimizer}")

    @property
    def samples_seen(self) -> int:
        return self.skips.seen

    @property
    def samples_skipped(self) -> int:
        return self.skips.skipped

    # ---------------------------------------------------------------- checkpoints
    def resume_path(self) -> Path | None:
        return self.checkpoints.resume_path()

    def save(self, periodic: bool = False, best: bool = False) -> None:
        """Check for a non-finite loss first (a checkpoint never holds one), then write last.pt (and
        checkpoint-<epoch>.pt when periodic, best.pt when best); collective."""
        self._poll()  # a preemption found here is acted on at the next step boundary
        progress_ = {"epoch": self.epoch, "iter_in_epoch": self.iter_in_epoch, "step": self.step,
                     "samples": {"seen": self.skips.seen, "skipped": self.skips.skipped}, "best": self.best}
        self.checkpoints.save(progress_, periodic=self.epoch - 1 if periodic else None, best=best)

    def load(self, path: Path) -> None:
        p = self.checkpoints.load(path, self.global_batch)
        self.epoch, self.iter_in_epoch, self.step, self.best = p["epoch"], p["iter_in_epoch"], p["step"], p["best"]
        self.skips.seen, self.skips.skipped = p["samples"]["seen"], p["samples"]["skipped"]

    def eval_model(self) -> nn.Module:
        """The model with full weights on this rank, for evaluation and figures; collective under FSDP."""
        if self._eval_copy is None:
            return self.model
        self._eval_copy.load_state_dict(fsdp.full_state(self.model))
        return self._eval_copy.to(self.ctx.device)

    # ---------------------------------------------------------------- loop
    def _prepare_output(self) -> None:
        if self.ctx.is_main:
            try:
                self.checkpoints.dir.mkdir(parents=True, exist_ok=True)
                probe = self.checkpoints.dir / ".write-test"
                probe.write_bytes(b"ok")
                probe.unlink()
            except OSError as e:
                raise UserError("output folder is not writable", str(self.out), e.strerror or str(e)) from None
            tmp = self.out / "config.yaml.tmp"
            tmp.write_text(yaml.safe_dump(self.cfg.to_dict(), sort_keys=False))
            tmp.replace(self.out / "config.yaml")
        barrier()

    def _set_lr(self, iteration: int) -> None:
        e = self.epoch + (iteration / self.iters_per_epoch if self.task.lr_schedule == "iteration" else 0)
        if self.task.lr_at is not None:
            lr = self.task.lr_at(e, self.base_lr)
        else:
            lr = warmup_cosine(e, self.base_lr, self.cfg.min_lr, self.cfg.warmup_epochs, self.cfg.epochs)
        for g in self.optimizer.param_groups:
            g["lr"] = (self.base_lr if g.get("fix_lr") else lr) * g.get("lr_scale", 1.0)

    def _lr_batch_note(self) -> str:
        f = self.task.lr_batch_factor
        return f" x {self.global_batch * f} / 256: {f} samples per item counted" if f != 1 else ""

    def _lr_record(self) -> dict[str, float]:
        return {f"lr/{g.get('name', i)}": g["lr"] for i, g in enumerate(self.optimizer.param_groups)}

    def _count_skipped(self, batch: Batch) -> None:
        skipped = batch.pop("skipped", [])
        n_good = len(batch["index"]) if "index" in batch else 0
        self.skips.add(n_good, skipped)
        if skipped and n_good == 0:
            raise RunError(f"no readable sample in a batch of {len(skipped)}", self.cfg.data,
                           "fix or remove the files named above")

    def fit(self) -> dict[str, Any]:
        """Train until cfg.epochs (or cfg.stop_after_steps); returns the last logged metrics."""
        cfg, ctx = self.cfg, self.ctx
        path = self.resume_path()
        if path is not None:
            self.load(path)  # before writing anything, so a bad checkpoint leaves the folder untouched
        self._prepare_output()
        log.info(f"batch per device {cfg.batch_size} x accum_iter {cfg.accum_iter} x world size "
                 f"{ctx.world_size} = global batch {self.global_batch}; lr {self.base_lr:.3e} "
                 f"(blr {cfg.blr:g}{self._lr_batch_note()}); {self.iters_per_epoch // cfg.accum_iter} steps per epoch")
        last: dict[str, Any] = {}
        if self.epoch >= cfg.epochs:
            log.info(f"training already complete ({self.epoch} of {cfg.epochs} epochs); raise --epochs to go on")
            return last
        mlog = MetricLog(self.out, ctx.is_main, resume_step=self.step)
        # one loader for the run: the sampler walks every remaining epoch, so workers never restart
        self.sampler.set_epoch(self.epoch, self.iter_in_epoch, epochs=cfg.epochs - self.epoch,
                               batches=self.iters_per_epoch)
        batches = iter(make_loader(self.task.train_data, self.sampler, cfg.num_workers))
        try:
            while self.epoch < cfg.epochs:
                last = self._train_epoch(batches, mlog) or last
                if self.stopped:
                    return last
                self.epoch += 1
                self.iter_in_epoch = 0
                last = self._end_of_epoch(mlog) or last
                if self._should_stop(saved=True):
                    return last
        finally:
            del batches  # stops the loader workers
            mlog.close()
        return last

    def _end_of_epoch(self, mlog: MetricLog) -> dict[str, Any] | None:
        """Evaluate (when due), then write last.pt, the periodic checkpoint and best.pt."""
        cfg, last, improved = self.cfg, None, False
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
        self.save(periodic=self.epoch % cfg.save_every == 0 or self.epoch == cfg.epochs, best=improved)
        return last

    def _backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss / self.cfg.accum_iter).backward()

    def _no_sync(self) -> contextlib.AbstractContextManager:
        return fsdp.no_gradient_sync(self.model) if self.fsdp else self.wrapped.no_sync()

    def _poll(self) -> bool:
        """Read the batched checks: raise on a non-finite loss; True when a rank was asked to stop."""
        found = self.checks.poll(PREEMPTION.requested)
        if found.bad_step is not None:
            raise RunError(f"loss is {found.bad_value} at step {found.bad_step}", str(self.out),
                           "stopped without overwriting the last checkpoint; lower the lr or use bf16")
        return found.preempted

    def _should_stop(self, saved: bool, polled: bool | None = None) -> bool:
        """At a step boundary: on preemption (any rank) save and requeue; after --stop-after-steps save and
        stop. `polled` is the preemption answer when the checks were just read."""
        preempted = self._poll() if polled is None else polled
        if preempted:
            if not saved:
                self.save()
            PREEMPTION.requeue(self.ctx.rank)
        if self.cfg.stop_after_steps and self.step >= self.cfg.stop_after_steps:
            if not saved:
                self.save()
            log.info(f"stopped after {self.step} steps as asked; rerun the same command to continue")
            self.stopped = True
        return self.stopped

    def _train_epoch(self, batches: Iterator[Batch], mlog: MetricLog) -> dict[str, Any] | None:
        cfg, ctx = self.cfg, self.ctx
        accum = cfg.accum_iter
        self.model.train()
        bar = progress(self.iters_per_epoch - self.iter_in_epoch, f"epoch {self.epoch}", ctx.is_main)
        last, t0, n_img, waited = None, time.time(), 0, 0.0
        autocast = torch.autocast(ctx.device.type, dtype=self.amp_dtype or torch.float32,
                                  enabled=self.amp_dtype is not None)
        for it in range(self.iter_in_epoch, self.iters_per_epoch):
            t_wait = time.perf_counter()
            batch = next(batches)
            waited += time.perf_counter() - t_wait
            self._count_skipped(batch)
            batch = _to_device(batch, ctx.device)
            if it % accum == 0:
                self._set_lr(it)
            boundary = (it + 1) % accum == 0
            sync = contextlib.nullcontext() if boundary or not ctx.distributed else self._no_sync()
            with sync:
                with autocast:
                    if self.task.manual_backward:
                        out = self.task.forward(self.wrapped, batch, backward=self._backward)
                    else:
                        out = self.task.forward(self.wrapped, batch)
                loss = out["loss"]
                self.checks.record(loss, self.step + 1)
                if not self.task.manual_backward:
                    self._backward(loss)
            n_img += len(batch["index"])
            if bar:
                bar.update(1)
            if not boundary:
                continue
            self.scaler.unscale_(self.optimizer)
            logging_now = (self.step + 1) % cfg.log_every == 0 or it + 1 == self.iters_per_epoch
            grad_norm = None
            if cfg.clip_grad or logging_now:  # the norm costs a pass over every gradient: only when used
                grad_norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.clip_grad or float("inf"))
                if hasattr(grad_norm, "full_tensor"):  # a DTensor under FSDP
                    grad_norm = grad_norm.full_tensor()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            self.iter_in_epoch = it + 1
            if self.task.after_step:
                self.task.after_step(self.step, self.epoch + self.iter_in_epoch / self.iters_per_epoch)
            checking = logging_now or self.step % cfg.check_every == 0
            preempted = self._poll() if checking else False  # raises on a non-finite loss before it is logged
            if logging_now:
                dt = time.time() - t0
                last = {"epoch": self.epoch, "step": self.step, "loss": mean_over_ranks(loss),
                        **{k: v.item() for k, v in out.items() if k != "loss" and torch.is_tensor(v) and v.ndim == 0},
                        "grad_norm": grad_norm.item(), **self._lr_record(),
                        "img_per_s": n_img * ctx.world_size / max(dt, 1e-9),
                        "data_wait": waited / max(dt, 1e-9)}
                mlog.write(last)
                log.info(format_line(last))
                t0, n_img, waited = time.time(), 0, 0.0
            if self.iter_in_epoch == self.iters_per_epoch:
                break  # fit() saves and checks for a stop at the epoch end
            stop_due = bool(cfg.stop_after_steps) and self.step >= cfg.stop_after_steps
            if (checking or stop_due) and self._should_stop(saved=False, polled=preempted):
                break
            if cfg.save_every_steps and self.step % cfg.save_every_steps == 0:
                self.save()
        if bar:
            bar.close()
        return last
