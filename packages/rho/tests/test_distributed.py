"""Two gloo processes with n videos each give the gradients of one process with the 2n videos: SimCLR's
NT-Xent over features gathered with gradient, SwAV's Sinkhorn-Knopp over both ranks' scores, and BYOL with
SyncBN (backbone, projection, predictor and the momentum branch normalise over the global batch). Each runs
the real sequential step under DDP. Tolerance: the same sums in another order (float32 rounding); gradients
that are zero in exact arithmetic (BYOL's last projection bias, which the predictor's BN cancels) are rounding
noise, so the absolute tolerance follows the largest gradient."""

import os
import socket
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

from vis.core.sync_bn import convert_sync_batchnorm
from vis.rho.model import build_model

METHODS = ("simclr", "swav", "byol")


def _build(tiny_config, method: str):
    torch.manual_seed(0)
    model = build_model(tiny_config(method, rho=3, batch_size=4))
    model.progress.fill_(1.0)  # SwAV: past the frozen-prototype epoch
    return model


def _worker(rank: int, port: int, x: torch.Tensor, tiny_config, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    for method in METHODS:
        model = convert_sync_batchnorm(_build(tiny_config, method), torch.device("cpu"))
        ddp = nn.parallel.DistributedDataParallel(model)
        loss = model.step(ddp, x[:, rank * 4 : (rank + 1) * 4], lambda loss_: loss_.backward(), sequential=True)["loss"]
        dist.all_reduce(loss)
        if rank == 0:
            out[method] = (loss / 2, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    dist.destroy_process_group()


def test_two_processes_equal_one_process_with_the_doubled_batch(monkeypatch, config, make_clips):
    x = make_clips(3, 8, seed=5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = mp.Manager().dict()
    # a spawned child imports this module and conftest by the names pytest's importlib mode gave them
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3]))
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    mp.spawn(_worker, args=(port, x, config, out), nprocs=2)
    for method in METHODS:
        model = _build(config, method)
        loss = model.step(model, x, lambda loss_: loss_.backward(), sequential=True)["loss"]
        got_loss, got = out[method]
        torch.testing.assert_close(got_loss, loss, rtol=1e-5, atol=1e-6, msg=method)
        want = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
        assert got.keys() == want.keys() and len(want) > 10, method
        scale = max(v.abs().max().item() for v in want.values())
        for k in want:  # absolute tolerance relative to the largest gradient: some are zero in exact arithmetic
            torch.testing.assert_close(got[k], want[k], rtol=1e-3, atol=1e-4 * scale, msg=f"{method} {k}")


