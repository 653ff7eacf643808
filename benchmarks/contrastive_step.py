"""Step time of the two Siamese methods on CPU, and what share of it goes to the momentum update and to the
collectives: MoCo v3 ViT-S (symmetric InfoNCE, keys gathered from every rank, EMA key encoder) and SimSiam
ResNet-50 (no momentum encoder, no gathered keys; its collectives are the SyncBatchNorm reductions).

    uv run python benchmarks/contrastive_step.py [--nproc 2] [--batch 8] [--input-size 112] [--steps 3]
    python benchmarks/contrastive_step.py --device cuda --nproc 1 --batch 64 --input-size 224 --steps 10

With --nproc 2 the step runs on two gloo processes (DDP, CPU SyncBatchNorm), so the gathers and
reductions are real; --nproc 1 measures the single-process step (the collectives are then no-ops). A step is
forward of both views through both branches, backward, optimizer step and (MoCo v3) the momentum update;
the first step is a warm-up and not timed. On a GPU (--device cuda, one process) MoCo v3 runs under bf16
autocast as its recipes do and SimSiam in fp32 as its paper does, and the clock waits for the device.
--tiny swaps in tiny models (for the test that keeps this script runnable).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
from collections import defaultdict

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

import vis.core.losses
import vis.core.sync_bn
from vis.core.config import ResNetOptions, ViTOptions
from vis.core.models.momentum import cosine_momentum, ema_update_
from vis.core.optim import uniform_groups
from vis.core.sync_bn import convert_sync_batchnorm
from vis.mocov3.model import MoCoV3, build_encoder
from vis.simsiam.model import SimSiam, objective

SPENT: dict[str, list[float]] = defaultdict(list)


def sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(name: str, fn):
    def wrapper(*args, **kwargs):
        sync()
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        sync()
        SPENT[name].append(time.perf_counter() - t0)
        return out
    return wrapper


def build(method: str, tiny: bool, size: int) -> tuple[nn.Module, str]:
    """The model and its optimizer name: MoCo v3's ViT-S (12 heads, frozen patch projection, 4096-wide
    heads, T 0.2, AdamW) or SimSiam's ResNet-50 (SGD); --tiny: small stand-ins."""
    if method == "mocov3":
        vit = ViTOptions(4, 64, 2, 4) if tiny else ViTOptions(16, 384, 12, 12)
        dim, mlp_dim = (64, 128) if tiny else (256, 4096)
        return MoCoV3(build_encoder("vit", size, vit, ResNetOptions()), dim, mlp_dim, temperature=0.2), "adamw"
    return (SimSiam(18, 8, small_input=True, dim=64, pred_dim=16) if tiny else SimSiam(50)), "sgd"


def run_method(method: str, args, rank: int, world: int) -> dict[str, float] | None:
    torch.manual_seed(0)
    size = 32 if args.tiny else args.input_size
    device = torch.device(args.device)
    model, opt_name = build(method, args.tiny, size)
    model.to(device)
    if world > 1:
        convert_sync_batchnorm(model, torch.device("cpu"))
        net: nn.Module = nn.parallel.DistributedDataParallel(model)
    else:
        net = model
    groups = uniform_groups(model, 0.1 if opt_name == "adamw" else 1e-4)
    opt = torch.optim.AdamW(groups, lr=1e-4) if opt_name == "adamw" else torch.optim.SGD(groups, lr=0.05, momentum=0.9)
    x = torch.randn(2, args.batch, 3, size, size, device=device)
    bf16 = device.type == "cuda" and method == "mocov3"  # the MoCo v3 recipes use bf16, SimSiam's paper fp32
    steps = []
    for step in range(args.steps + 1):
        SPENT.clear()
        sync()
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = net(x[0], x[1])
            loss = out["loss"] if method == "mocov3" else objective(out)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if method == "mocov3":
            timed("momentum update", ema_update_)(model.momentum_encoder, model.base_encoder,
                                                  cosine_momentum(0.99, step, 100))
        sync()
        if step:  # the first step warms up allocators and kernels
            steps.append({"step": time.perf_counter() - t0, **{k: sum(v) for k, v in SPENT.items()}})
    if rank:
        return None
    return {k: statistics.median(s.get(k, 0.0) for s in steps) for k in ("step", "momentum update", "collectives")}


def worker(rank: int, world: int, port: int, args) -> None:
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // world))
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
        dist.init_process_group("gloo", rank=rank, world_size=world)
    # every collective of a step: the keys' all-gather (InfoNCE) and the SyncBatchNorm reductions
    gather, reduce = vis.core.losses.all_gather_nograd, vis.core.sync_bn.all_reduce_grad
    vis.core.losses.all_gather_nograd = timed("collectives", gather)
    vis.core.sync_bn.all_reduce_grad = timed("collectives", reduce)
    try:
        rows = [(m, run_method(m, args, rank, world)) for m in ("mocov3", "simsiam")]
    finally:
        vis.core.losses.all_gather_nograd, vis.core.sync_bn.all_reduce_grad = gather, reduce
    if rank == 0:
        size = 32 if args.tiny else args.input_size
        where = (torch.cuda.get_device_name() if args.device == "cuda"
                 else f"{torch.get_num_threads()} CPU thread(s) each")
        print(f"{world} process(es) x batch {args.batch} at {size} px, {where}, median of {args.steps} steps")
        print(f"{'method':<26}{'step s':>9}{'momentum':>10}{'collectives':>13}")
        names = {"mocov3": "MoCo v3 ViT-S" if not args.tiny else "MoCo v3 (tiny)",
                 "simsiam": "SimSiam ResNet-50" if not args.tiny else "SimSiam (tiny)"}
        for method, r in rows:
            print(f"{names[method]:<26}{r['step']:>9.3f}{r['momentum update'] / r['step']:>9.1%}"
                  f"{r['collectives'] / r['step']:>12.1%}")
    if world > 1:
        dist.destroy_process_group()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--batch", type=int, default=8, help="per process")
    p.add_argument("--input-size", type=int, default=112)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = p.parse_args()
    if args.device == "cuda" and args.nproc != 1:
        p.error("--device cuda measures one process on one GPU: add --nproc 1")
    if args.nproc == 1:
        worker(0, 1, 0, args)
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(args.nproc, port, args), nprocs=args.nproc)


if __name__ == "__main__":
    main()
