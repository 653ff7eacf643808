"""RCG cost: training-step time and sampling throughput of the RDM and of the pixel generator, measured in one
run, and the share of sampling time the RDM takes (the paper: the RDM adds little to the generator's cost).

    uv run python benchmarks/rcg_step.py                 # tiny sizes on the CPU
    uv run python benchmarks/rcg_step.py --paper         # the paper's sizes (RDM 12 x 1536, ADM 256 px), a GPU
"""

from __future__ import annotations

import argparse
import os

import torch

from vis.core.bench import timed
from vis.rcg.generator import PixelGenerator
from vis.rcg.rdm import RDM


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paper", action="store_true", help="RDM 12 x 1536 (rep 256), ADM 256 px (256 channels)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="sampling steps (DDIM) of each stage")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if a.paper:
        rdm = RDM(256, 1536, 12)
        gen = PixelGenerator(256, 256, channels=256, channel_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=2,
                             attention_resolutions=(32, 16, 8), head_channels=64)
        batch, steps, size, rep = a.batch or 16, a.steps or 250, 256, 256
    else:
        rdm = RDM(64, 256, 3)
        gen = PixelGenerator(8, 64, channels=32, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(4,),
                             head_channels=32)
        batch, steps, size, rep = a.batch or 64, a.steps or 50, 8, 64
    rdm, gen = rdm.to(device), gen.to(device)
    opt_r, opt_g = torch.optim.AdamW(rdm.net.parameters()), torch.optim.AdamW(gen.unet.parameters())
    reps, imgs = torch.randn(batch, rep, device=device), torch.rand(batch, 3, size, size, device=device)
    t = torch.randint(0, 1000, (batch,), device=device)
    drop = torch.zeros(batch, dtype=torch.bool, device=device)

    def step_rdm():
        opt_r.zero_grad()
        rdm(reps, t, torch.randn_like(reps))["loss"].backward()
        opt_r.step()

    def step_gen():
        opt_g.zero_grad()
        gen(imgs, reps, t, torch.randn_like(imgs), drop)["loss"].backward()
        opt_g.step()

    rows = [("rdm train step", timed(step_rdm, a.repeats, device)),
            ("pixel train step", timed(step_gen, a.repeats, device)),
            (f"rdm sample ({steps} DDIM)", timed(lambda: rdm.sample(batch, steps, device=device), 1, device)),
            (f"pixel sample ({steps} DDIM)", timed(lambda: gen.sample(reps, steps), 1, device))]
    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else os.cpu_count()} "
          f"{'GPU' if device.type == 'cuda' else 'CPUs'}), batch {batch}, load {os.getloadavg()[0]:.1f}")
    print(f"{'what':28s} {'s / batch':>10s} {'images/s':>10s}")
    for name, sec in rows:
        print(f"{name:28s} {sec:10.4f} {batch / sec:10.1f}")
    share = rows[2][1] / (rows[2][1] + rows[3][1])
    print(f"RDM share of sampling time: {share:.1%}; pixel / RDM train-step time: {rows[1][1] / rows[0][1]:.1f}x")


if __name__ == "__main__":
    main()
