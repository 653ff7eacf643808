"""DDP scaling of the tiny MAE: optimizer steps per second with 1 and 2 processes at the same per-process
batch (gloo on CPU, NCCL when GPUs are present), and the scaling efficiency.

    uv run python benchmarks/ddp_scaling.py [--procs 1 2] [--steps 30]

Each configuration runs the real `mae-pretrain` entry point under torchrun; the rate is taken from the
TensorBoard wall times of logged steps 5 to N, so start-up is excluded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def steps_per_second(procs: int, steps: int, batch: int, port: int, device: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [str(BIN / "torchrun"), "--nproc-per-node", str(procs), "--master-addr", "127.0.0.1",
               "--master-port", str(port), "-m", "vis.mae.pretrain", "--recipe", "tiny", "--output-dir", out,
               "--batch-size", str(batch), "--stop-after-steps", str(steps), "--log-every", "1", "--knn-every", "0",
               "--num-workers", "0", "--epochs", "40", "--device", device]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        return _rate_from_tb(Path(out))


def _rate_from_tb(out: Path) -> float:
    """Steps per second between the 5th and the last logged step, from TensorBoard wall times."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    events = acc.Scalars("loss")
    first, last = events[4], events[-1]
    return (last.step - first.step) / (last.wall_time - first.wall_time)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32, help="per process")
    ap.add_argument("--device", choices=["cpu", "cuda"], default=None,
                    help="default: cuda (NCCL) when there is a GPU per process, else cpu (gloo)")
    args = ap.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.device_count() >= max(args.procs) else "cpu")
    t0 = time.time()
    rates = {p: steps_per_second(p, args.steps, args.batch, 29600 + p, device) for p in args.procs}
    base = rates[min(rates)]
    backend = "NCCL" if device == "cuda" else "gloo"
    print(f"tiny MAE on {device} ({backend}), batch {args.batch} per process, OMP_NUM_THREADS=1 per process "
          f"({time.time() - t0:.0f} s)")
    print(f"{'processes':>9s} {'steps/s':>8s} {'images/s':>9s} {'efficiency':>10s}")
    for p, r in rates.items():  # fixed batch per process: ideal scaling keeps steps/s constant
        print(f"{p:9d} {r:8.2f} {r * p * args.batch:9.1f} {r / base:10.1%}")


if __name__ == "__main__":
    main()
