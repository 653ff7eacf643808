"""The three global-batch InfoNCE variants (naive: full logits, features gathered without gradient;
gather_grad: full logits gathered with gradient; local: this rank's rows and columns only) give, on 2 gloo
processes under DDP, the loss and the gradients of one process holding the whole batch. Tolerance: float32
sums in another order (1e-6 absolute on the loss; on each gradient tensor 1e-5 of its largest element: the
measured differences are below 5e-7 of it, while a wrong variant is off by a factor of order 1)."""

import os
import subprocess
import sys

import torch

from vis.core.testing import GLOO_ENV
from vis.flip.cli import pretrain
from vis.flip.pretrain import build_model

ARGS = ["--embed-dim", "32", "--depth", "1", "--num-heads", "2", "--text-width", "32", "--text-depth", "1",
        "--text-heads", "2", "--proj-dim", "16", "--tokenizer", "words", "--vocab-size", "64", "--mask-ratio", "0.5"]
N = 8  # global batch

RANK_CODE = """
import os, sys, torch, torch.distributed as dist
from vis.flip.cli import pretrain
from vis.flip.pretrain import build_model
args, out = eval(sys.argv[1]), sys.argv[2]
dist.init_process_group("gloo")
r, n = dist.get_rank(), {n} // 2
torch.manual_seed(0)
model = build_model(pretrain.parse(args))
ddp = torch.nn.parallel.DistributedDataParallel(model)
g = torch.Generator().manual_seed(1)
x, t = torch.randn({n}, 3, 32, 32, generator=g), torch.randint(1, 64, ({n}, 32), generator=g)
res = {{}}
for mode in ("naive", "gather_grad", "local"):
    model.loss_mode = mode
    loss = ddp(x[r * n:(r + 1) * n], t[r * n:(r + 1) * n], torch.arange(r * n, (r + 1) * n))["loss"]
    loss.backward()
    mean = loss.detach().clone(); dist.all_reduce(mean)
    res[mode] = {{"loss": mean / 2, **{{k: p.grad.clone() for k, p in model.named_parameters() if p.requires_grad}}}}
    model.zero_grad()
if r == 0:
    torch.save(res, out)
dist.destroy_process_group()
""".format(n=N)  # noqa: UP032


def test_three_variants_on_two_processes_match_one_process(tmp_path):
    torch.manual_seed(0)
    model = build_model(pretrain.parse(ARGS))
    g = torch.Generator().manual_seed(1)
    x, t = torch.randn(N, 3, 32, 32, generator=g), torch.randint(1, 64, (N, 32), generator=g)
    loss = model(x, t, torch.arange(N))["loss"]
    loss.backward()
    ref = {"loss": loss.detach(), **{k: p.grad for k, p in model.named_parameters() if p.requires_grad}}

    out = tmp_path / "two.pt"
    env = {**os.environ, **GLOO_ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29831", "WORLD_SIZE": "2"}
    procs = [subprocess.Popen([sys.executable, "-c", RANK_CODE, repr(ARGS), str(out)], env={**env, "RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    two = torch.load(out, weights_only=True)
    assert ref["logit_scale"].abs() > 0 and ref["visual.trunk.blocks.0.attn.qkv.weight"].abs().sum() > 0
    for mode, got in two.items():
        torch.testing.assert_close(got["loss"], ref["loss"], rtol=0, atol=1e-6, msg=mode)
        for k, v in ref.items():
            if k != "loss":
                scale = v.abs().max().item()
                assert (got[k] - v).abs().max().item() <= 1e-5 * scale, f"{mode}: {k}"
