"""Run an entry point here, under torchrun, or on SLURM through submitit, with requeue on preemption.

On SLURM the job receives USR2 before its time limit or on preemption. vis replaces submitit's handler
with one that only raises a flag; the training loop notices it at the next optimizer-step boundary (agreed
across ranks), writes checkpoints/last.pt, and only then hands over to submitit, which requeues the job.
The requeued job reruns the same command and resumes from last.pt. Checkpointing inside the signal handler
itself would save a half-updated model.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vis.core.config import LaunchOptions
from vis.core.errors import RunError

log = logging.getLogger("vis")


class Preemption:
    """The USR2 flag of a submitit job and the hand-over to submitit's requeue."""

    def __init__(self) -> None:
        self.requested = False
        self._submitit_handler: Any = None

    def install(self) -> None:
        sig = signal.SIGUSR2
        self._submitit_handler = signal.getsignal(sig)
        signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True

    def requeue(self, rank: int) -> None:
        """Call after last.pt is written. Rank 0 lets submitit requeue and exit; other ranks wait to be
        stopped by the scheduler (exiting first could make srun kill rank 0 before it requeues)."""
        log.info("preempted: last.pt written, requeueing")
        if rank == 0:
            self._submitit_handler(signal.SIGUSR2, None)
        time.sleep(300)
        sys.exit(1)


PREEMPTION = Preemption()


class SubmititJob:
    """The callable submitit pickles: sets up the process group from the job environment and runs main.

    `checkpoint()` (called by submitit on rank 0 after last.pt is written) resubmits the same command,
    which resumes from last.pt because --resume defaults to auto.
    """

    def __init__(self, main: Callable[[Any], Any], cfg: Any):
        self.main, self.cfg = main, cfg

    def __call__(self) -> Any:
        import submitit

        env = submitit.JobEnvironment()
        if env.num_tasks > 1:
            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        PREEMPTION.install()
        return self.main(self.cfg)

    def checkpoint(self, *args: Any, **kwargs: Any):
        import submitit

        return submitit.helpers.DelayedSubmission(SubmititJob(self.main, self.cfg))


def slurm_parameters(opts: LaunchOptions) -> dict[str, Any]:
    """submitit parameters from the launch options (None values left out)."""
    tasks = opts.tasks_per_node or opts.gpus_per_node or 1
    params: dict[str, Any] = dict(
        nodes=opts.nodes or 1, tasks_per_node=tasks, cpus_per_task=opts.cpus_per_task,
        timeout_min=opts.timeout_min, name=opts.job_name or "vis",
    )
    if opts.gpus_per_node:
        params["gpus_per_node"] = opts.gpus_per_node
    if opts.mem_gb:
        params["mem_gb"] = opts.mem_gb
    for key in ("partition", "account", "constraint", "qos", "comment", "exclude"):
        if getattr(opts, key):
            params[f"slurm_{key}"] = getattr(opts, key)
    params["slurm_signal_delay_s"] = 120
    return params


def submit(cfg: Any, main: Callable[[Any], Any]) -> Any:
    """Submit `main(cfg)` through submitit.AutoExecutor, print the job id and log path, return the job."""
    import submitit

    cfg.output_dir = str(Path(cfg.output_dir).resolve())
    opts: LaunchOptions = cfg.launch
    executor = submitit.AutoExecutor(folder=Path(cfg.output_dir) / "slurm", cluster=opts.cluster,
                                     slurm_max_num_timeout=opts.max_requeue, local_max_num_timeout=opts.max_requeue)
    executor.update_parameters(**slurm_parameters(opts))  # other clusters ignore the slurm_* keys
    job = executor.submit(SubmititJob(main, cfg))
    print(f"submitted job {job.job_id} ({executor.cluster}); log: {job.paths.stdout}", flush=True)
    return job


def wait(job: Any) -> Any:
    """Block until the job ends (every task of it); return rank 0's result. On failure print the tail of
    its stderr and raise RunError."""
    try:
        return job.results()[0]
    except Exception as e:
        tail = "\n".join((job.stderr() or "").splitlines()[-20:])
        print(tail, file=sys.stderr)
        last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise RunError(f"job {job.job_id} failed: {last}", str(job.paths.stderr), "see the log tail above") from None


def launch(cfg: Any, main: Callable[[Any], Any]) -> Any:
    """Submit when --nodes/--slurm is given, else run here (torchrun sets the process-group variables)."""
    opts: LaunchOptions = cfg.launch
    if not opts.submits:
        return main(cfg)
    job = submit(cfg, main)
    # a local job is a child of this process and would die with it
    return wait(job) if opts.wait or opts.cluster in ("local", "debug") else job
