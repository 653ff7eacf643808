"""Run an entry point here, under torchrun, or on SLURM through submitit, with requeue on preemption.

On SLURM the job receives USR2 before its time limit or on preemption. vis replaces submitit's handler
with one that only raises a flag; the training loop notices it at the next optimizer-step boundary (agreed
across ranks), writes checkpoints/last.pt, and only then hands over to submitit, which requeues the job.
The requeued job reruns the same command and resumes from last.pt. Checkpointing inside the signal handler
itself would save a half-updated model.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vis.core.config import LaunchOptions
from vis.core.errors import RunError, UserError

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
        """Call on every rank after last.pt is written. Rank 0 lets submitit requeue the job (and exit); the
        others leave once that is done (leaving first could make srun stop rank 0 before it requeues, and
        waiting to be stopped would cost the scheduler's kill delay, as submitit ignores SIGTERM)."""
        from vis.core.dist import barrier

        log.info("preempted: last.pt written, requeueing")
        if rank == 0:
            try:
                self._submitit_handler(signal.SIGUSR2, None)  # checkpoint(), scontrol requeue, sys.exit
            finally:
                barrier()
        else:
            barrier()
        sys.exit(0)


PREEMPTION = Preemption()


class SubmititJob:
    """The callable submitit pickles: sets up the process group from the job environment and runs
    `main(cfg)`. `checkpoint()` (called by submitit on rank 0 after last.pt is written) resubmits the same
    configuration, which resumes from last.pt because --resume defaults to auto."""

    def __init__(self, main: Callable[[Any], Any]):
        self.main = main

    def __call__(self, cfg: Any) -> Any:
        import submitit

        env = submitit.JobEnvironment()
        if "OMP_NUM_THREADS" not in os.environ and "SLURM_CPUS_PER_TASK" in os.environ:
            import torch  # as torchrun does: no more threads than CPUs given to this task

            torch.set_num_threads(int(os.environ["SLURM_CPUS_PER_TASK"]))
        if env.num_tasks > 1:
            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        PREEMPTION.install()
        return self.main(cfg)

    def checkpoint(self, cfg: Any) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(SubmititJob(self.main), cfg)


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
    # USR2 this long before the time limit: room to finish a step and write last.pt. SLURM checks limits
    # every 30 s and may signal up to that much earlier, so a short limit gets a short delay.
    params["slurm_signal_delay_s"] = opts.signal_delay_s or min(120, opts.timeout_min * 15)
    # one dead rank ends the whole step at once instead of leaving the others blocked in a collective
    params["slurm_srun_args"] = ["--kill-on-bad-exit=1"]
    return params


def _executor(opts: LaunchOptions, folder: Path) -> Any:
    import submitit

    executor = submitit.AutoExecutor(folder=folder, cluster=opts.cluster, slurm_max_num_timeout=opts.max_requeue,
                                     local_max_num_timeout=opts.max_requeue)
    executor.update_parameters(**slurm_parameters(opts))  # other clusters ignore the slurm_* keys
    return executor


def submit(cfg: Any, main: Callable[[Any], Any]) -> Any:
    """Submit `main(cfg)` through submitit.AutoExecutor, print the job id and log path, return the job."""
    cfg.output_dir = str(Path(cfg.output_dir).resolve())
    executor = _executor(cfg.launch, Path(cfg.output_dir) / "slurm")
    job = executor.submit(SubmititJob(main), cfg)
    print(f"submitted job {job.job_id} ({executor.cluster}); log: {job.paths.stdout}", flush=True)
    return job


def submit_array(cfgs: Sequence[Any], main: Callable[[Any], Any], folder: str | Path) -> list[Any]:
    """Submit `main(cfg)` for every configuration as one array job (submitit's map_array), with the
    resources of the first configuration's launch options; logs go to `folder`. Each element is
    preempted, requeued and resumed like a single job. Collect the results with `wait_all`."""
    if not cfgs:
        raise UserError("no configurations to submit", str(folder), "pass at least one")
    for cfg in cfgs:
        cfg.output_dir = str(Path(cfg.output_dir).resolve())
    dirs = [cfg.output_dir for cfg in cfgs]
    if len(set(dirs)) != len(dirs):
        raise UserError("two configurations of the array share an output folder", str(folder),
                        "give each its own --output-dir (they would resume from each other's last.pt)")
    executor = _executor(cfgs[0].launch, Path(folder).resolve())
    jobs = executor.map_array(SubmititJob(main), list(cfgs))
    print(f"submitted array job {jobs[0].job_id.split('_')[0]} ({executor.cluster}) of {len(jobs)} runs; "
          f"logs: {Path(folder).resolve()}", flush=True)
    return jobs


def _lost_ranks(log: str) -> list[str]:
    """The ranks srun reports killed by a signal ("task 1: Killed", "task 0: Segmentation fault"), leaving out
    those it terminated itself because another one died (--kill-on-bad-exit) and those that exited with a
    code (an exception in the run, reported from its own trace)."""
    dead = sorted({(int(rank), how) for rank, how in re.findall(r"task (\d+): ([A-Z][^\n]*)", log)})
    return [f"rank {rank} ({how})" for rank, how in dead if how != "Terminated" and not how.startswith("Exited")]


def _exception_line(trace: str) -> str | None:
    """The last "SomeError: message" line of a Python traceback (without a "[rank0]: " prefix)."""
    found = re.findall(r"^(?:\[rank\d+\]:\s*)?((?:[\w.]+\.)?\w*(?:Error|Exception|Exit)\b.*)$", trace, re.M)
    return found[-1].strip() if found else None


def explain_failure(job: Any, error: BaseException) -> RunError:
    """A one-line RunError for a job that ended without a result: cancelled, a rank lost, or an exception."""
    stderr = job.stderr() or ""
    try:
        state = job.get_info(mode="force").get("State", job.state)
    except Exception:  # accounting unreachable: fall back on what submitit last saw
        state = job.state
    if state.startswith("CANCELLED"):
        return RunError(f"job {job.job_id} was cancelled ({state})", str(job.paths.stdout),
                        "rerun the same command to resume from checkpoints/last.pt")
    lost = _lost_ranks(stderr)
    if lost:  # the others then fail in a collective: that error is a consequence
        return RunError(f"job {job.job_id} lost {', '.join(lost)}; the other ranks were stopped",
                        str(job.paths.stderr), "rerun the same command to resume from checkpoints/last.pt")
    last = _exception_line(str(error)) or _exception_line(stderr) or str(error).strip() or type(error).__name__
    return RunError(f"job {job.job_id} failed ({state}): {last.splitlines()[-1]}", str(job.paths.stderr),
                    "see the log tail above")


ENDED_WITHOUT_RESULT = ("CANCELLED", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "TIMEOUT", "BOOT_FAIL", "DEADLINE")


def _result_of(job: Any) -> Any:
    """Rank 0's result once every task has ended. A job that SLURM ended before its tasks wrote a result
    (scancel, a lost rank) is reported within seconds instead of after submitit's 15 s grace for slow
    shared filesystems."""
    while not job.done():
        time.sleep(1)
    first = job.task(0) if job.num_tasks > 1 else job
    for _ in range(3):
        if first.paths.result_pickle.exists() or not job.state.startswith(ENDED_WITHOUT_RESULT):
            break
        time.sleep(1)
    else:
        raise RuntimeError(f"job ended ({job.state}) without a result")
    return job.results()[0]


def wait(job: Any) -> Any:
    """Block until the job ends (every task of it); return rank 0's result. On failure print the tail of
    its stderr and raise a RunError saying why (cancelled, a rank lost, an exception)."""
    try:
        return _result_of(job)
    except Exception as e:
        print("\n".join((job.stderr() or "").splitlines()[-20:]), file=sys.stderr)
        raise explain_failure(job, e) from None


def wait_all(jobs: Sequence[Any]) -> list[Any]:
    """Rank 0's result of every job (e.g. of `submit_array`), in order, once all have ended; raise a
    RunError naming every job that failed."""
    results, failures = [], []
    for job in jobs:
        try:
            results.append(_result_of(job))
        except Exception as e:
            failures.append(explain_failure(job, e))
            results.append(None)
    if failures:
        raise RunError(f"{len(failures)} of {len(jobs)} jobs failed: " + "; ".join(f.what for f in failures),
                       str(Path(jobs[0].paths.stdout).parent), "rerun the failed configurations")
    return results


def launch(cfg: Any, main: Callable[[Any], Any]) -> Any:
    """Submit when --nodes/--slurm is given, else run here (torchrun sets the process-group variables)."""
    opts: LaunchOptions = cfg.launch
    if not opts.submits:
        return main(cfg)
    job = submit(cfg, main)
    # a local job is a child of this process and would die with it
    return wait(job) if opts.wait or opts.cluster in ("local", "debug") else job
