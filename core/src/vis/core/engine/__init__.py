"""The training loop every vis method uses, split by concern.

A method hands the `Trainer` a `Task` (`task.py`): its model, its training data, a forward function returning
{"loss": ..., other scalars}, its parameter groups and optional hooks. The Trainer (`loop.py`) owns
everything else: per-iteration lr (warm-up + cosine, times each group's lr_scale), gradient accumulation (no
all-reduce on non-final micro-steps), clipping, AMP, logging, under DDP or FSDP2. `checkpointing.py` writes
and restores the whole training state (exact resume, sharded under FSDP); `checks.py` holds the host-side
checks kept off the per-step path (non-finite loss, preemption).
"""

from vis.core.engine.loop import Trainer
from vis.core.engine.task import Batch, Task

__all__ = ["Batch", "Task", "Trainer"]
