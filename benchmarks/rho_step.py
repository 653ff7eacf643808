"""rho-video training-step cost: clips per second per objective at rho = 1..4 (decoding the clips of real MP4s
+ the sequential training step), the share of that time spent decoding, and the peak memory of the sequential
step against the all-at-once step.

    uv run python benchmarks/rho_step.py [--methods moco byol simclr swav] [--rhos 1 2 3 4] [--batch 8]
        [--steps 3] [--backbone slow-tiny --size 32 --frames 4] [--device cpu|cuda]

Peak memory: on CUDA torch.cuda.max_memory_allocated; on CPU the highest resident set sampled every 0.2 ms
during the first step above the level before it, each mode in a fresh process (freed memory the allocator
keeps would otherwise hide the second mode's peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import torch


def build(method: str, rho: int, a):
    from vis.rho.model import build_model
    from vis.rho.recipes import tiny

    cfg = tiny()
    cfg.method, cfg.rho, cfg.backbone, cfg.input_size = method, rho, a.backbone, a.size
    cfg.clip.num_frames, cfg.queue_len, cfg.batch_size = a.frames, max(1024, 8 * a.batch), a.batch
    cfg.resolve()
    model = build_model(cfg).to(a.device)
    if method == "moco":
        model.queue.filled.fill_(True)
    return cfg, model


def decode(cfg, n: int) -> tuple[torch.Tensor, float]:
    from vis.rho.data import pretrain_data

    data = pretrain_data(cfg)
    t = time.perf_counter()
    x = torch.stack([data[(0, i)]["image"] for i in range(n)]).transpose(0, 1)
    return x, time.perf_counter() - t


def step(model, views, sequential: bool) -> None:
    model.step(model, views, lambda loss: loss.backward(), sequential)
    model.zero_grad(set_to_none=True)
    if views.is_cuda:
        torch.cuda.synchronize()


def throughput(method: str, rho: int, a) -> dict:
    cfg, model = build(method, rho, a)
    x, t_decode = decode(cfg, a.batch)
    x = x.to(a.device)
    step(model, x, True)  # warm-up
    t = time.perf_counter()
    for _ in range(a.steps):
        step(model, x, True)
    t_step = (time.perf_counter() - t) / a.steps
    clips = x.shape[0] * x.shape[1]
    return {"clips_per_s": clips / (t_decode + t_step), "decode_share": t_decode / (t_decode + t_step)}


def peak_memory(method: str, rho: int, sequential: bool, a) -> float:
    """MiB above the level before the step."""
    cfg, model = build(method, rho, a)
    x, _ = decode(cfg, a.batch)
    x = x.to(a.device)
    if a.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step(model, x, sequential)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    page = os.sysconf("SC_PAGE_SIZE")
    rss = lambda: int(open("/proc/self/statm").read().split()[1]) * page
    base, peak, done = rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.0002)

    watcher = threading.Thread(target=sample)
    watcher.start()
    step(model, x, sequential)
    done.set()
    watcher.join()
    return (peak[0] - base) / 2**20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=["moco", "byol", "simclr", "swav"])
    p.add_argument("--rhos", nargs="+", type=int, default=[1, 2, 3, 4])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--backbone", default="slow-tiny")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--memory-only", nargs=3, metavar=("METHOD", "RHO", "SEQUENTIAL"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.memory_only:
        m, r, s = a.memory_only
        print(json.dumps(peak_memory(m, int(r), s == "1", a)))
        return
    print(f"{a.backbone} {a.frames}x{a.size}^2, {a.batch} videos per step, {a.device}")
    print("| method | rho | clips/s | decode share |")
    print("|---|---|---|---|")
    for method in a.methods:
        for rho in a.rhos:
            r = throughput(method, rho, a)
            print(f"| {method} | {rho} | {r['clips_per_s']:.1f} | {r['decode_share']:.0%} |", flush=True)
    print("\n| method | rho | peak MiB sequential | peak MiB all at once | ratio |")
    print("|---|---|---|---|---|")
    passthrough = [f"--{k}={v}" for k, v in (("batch", a.batch), ("backbone", a.backbone), ("size", a.size),
                                               ("frames", a.frames), ("device", a.device))]
    for method in a.methods:
        rho = max(a.rhos)
        mem = [float(subprocess.run([sys.executable, __file__, *passthrough, "--memory-only", method, str(rho), s],
                                    capture_output=True, text=True, check=True).stdout.split()[-1]) for s in "10"]
        print(f"| {method} | {rho} | {mem[0]:.0f} | {mem[1]:.0f} | {mem[1] / max(mem[0], 1e-9):.2f} |", flush=True)


if __name__ == "__main__":
    main()
