"""What FLOPs matching costs in wall-clock: a training step (forward, backward, SGD) of each relational model on
its best graph at the FLOPs-matched width, against the dense (complete-graph) model at the base width. The
masked multiply-adds are equal by construction; the masked layers still run dense matrix products over the
wider channels (masking is the reference implementation, as in the paper's code), so the relational model
pays for the masked-out weights too.

    uv run python benchmarks/relgraph_step.py [--models mlp resnet34] [--batch 8] [--steps 3]
    python benchmarks/relgraph_step.py --device cuda --batch 64 --steps 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from vis.relgraph.graphs import GraphRow
from vis.relgraph.layers import masked_macs
from vis.relgraph.models import BASE_WIDTH, build_model, matched_width
from vis.relgraph.recipes import BEST

SIZES = {"mlp": (32, 10), "cnn": (224, 1000), "resnet34": (224, 1000), "resnet34sep": (224, 1000),
         "resnet50": (224, 1000)}


def step_time(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    times = []
    for i in range(steps + 1):
        sync()
        t0 = time.perf_counter()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        if i:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["mlp", "resnet34"], choices=list(SIZES))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    device = torch.device(args.device)
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{where}; batch {args.batch}, median of {args.steps} steps, fp32")
    print(f"{'model':<12}{'graph C / L':>14}{'width':>12}{'M MACs':>16}{'s/step':>18}{'relational / dense':>20}")
    for name in args.models:
        size, classes = SIZES[name]
        density, p, seed = BEST[name]
        row = GraphRow(64, density, p, seed).with_measures()
        adj, full = row.adjacency(), np.ones((64, 64))
        width = matched_width(name, adj, classes, size)
        x = torch.randn(args.batch, 3, size, size, device=device)
        y = torch.randint(0, classes, (args.batch,), device=device)
        results = []
        for a, w in ((full, BASE_WIDTH[name]), (adj, width)):
            torch.manual_seed(0)
            model = build_model(name, w, a, classes, size).to(device)
            results.append((masked_macs(model, (3, size, size)), step_time(model, x, y, args.steps)))
        (dense_macs, dense_t), (rel_macs, rel_t) = results
        print(f"{name:<12}{row.C:>7.3f} / {row.L:.3f}{BASE_WIDTH[name]:>5} / {width:<5}"
              f"{dense_macs / 1e6:>7.1f} / {rel_macs / 1e6:<7.1f}{dense_t:>8.4f} / {rel_t:<8.4f}"
              f"{rel_t / dense_t:>12.2f}x")


if __name__ == "__main__":
    main()
