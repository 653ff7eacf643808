"""Host-side checks kept off the per-step path: a non-finite loss and a preemption request.

Reading a loss on the host (`loss.item()`) or agreeing on a flag across ranks (an all-reduce) every step
stalls the device's queue. So the loop only records on the device, without a sync, the first step whose loss
was not finite; every `--check-every` optimizer steps, and always before a checkpoint is written, `poll()`
reads that record and the preemption flag in one go (one all-reduce of three numbers under several
processes). A non-finite loss therefore stops the run before any checkpoint can hold it, and a preempted
run saves within `--check-every` steps of the signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist

from vis.core.dist import world_size

NONE = 2**62  # "no non-finite loss yet"


@dataclass(frozen=True)
class Poll:
    """What `StepChecks.poll` found, agreed by every rank."""

    bad_step: int | None
    """The first optimizer step (over all ranks) whose loss was not finite, if any."""
    bad_value: str
    preempted: bool


class StepChecks:
    """The device-side record of non-finite losses, and its periodic read together with the preemption flag."""

    def __init__(self, device: torch.device):
        self._first = torch.full((), NONE, dtype=torch.long, device=device)
        self._value = torch.zeros((), device=device)

    def record(self, loss: torch.Tensor, step: int) -> None:
        """Note `loss` of optimizer step `step` (no host sync)."""
        loss = loss.detach().float()
        new = ~torch.isfinite(loss) & (self._first == NONE)
        self._first = torch.where(new, step, self._first)
        self._value = torch.where(new, loss, self._value)

    def poll(self, preempt_requested: bool) -> Poll:
        """One host read (and one all-reduce across ranks) of everything recorded since the start."""
        flags = torch.stack([-self._first, torch.tensor(int(preempt_requested), device=self._first.device)])
        if world_size() > 1:
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        neg_first, preempted = flags.tolist()
        first = -neg_first
        mine = first == self._first.item()
        value = str(self._value.item()) if mine else "not finite on another rank"
        return Poll(None if first == NONE else first, value, bool(preempted))
