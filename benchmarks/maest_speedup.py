"""MAE-ST's masking speed-up: train-step time (forward, backward, AdamW) at 90% masking versus the same
encoder on all 1568 tokens of a 16 x 224 clip (the paper's dense baseline, Table 1) with the same decoder.

    uv run python benchmarks/maest_speedup.py [--sizes base large] [--batch 1] [--steps 1] [--device cuda]

Prints both times, the measured ratio and the ratio implied by FLOPs (multiply-adds on the meta device).
The paper: ViT-L 627.5 vs 81.0 GFLOPs (7.7x), 4.1x wall-clock with data loading, 5.8x without (A100s).
"""

from __future__ import annotations

import argparse
import time

import torch

from vis.core.flops import meta_macs
from vis.core.models import masked_mse
from vis.mae_st.model import MaskedAutoencoderViT3D
from vis.mae_st.recipes import SIZES


def dense_step(model: MaskedAutoencoderViT3D, clips: torch.Tensor) -> torch.Tensor:
    """Encoder on every token, then the same decoder and loss (on a random 90% of the tokens)."""
    n, length = clips.shape[0], model.num_patches
    pred = model.decoder(model.encoder.forward_features(clips), torch.arange(length, device=clips.device).expand(n, -1))
    mask = (torch.rand(n, length, device=clips.device) < model.mask_ratio).float()
    return masked_mse(pred, model.target(clips), mask, True)


def time_steps(model, step, clips, steps: int) -> float:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95))
    for i in range(steps + 1):  # the first step warms up
        if i == 1:
            t0 = time.perf_counter()
        step(model, clips).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if clips.is_cuda:
            torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["base", "large"], choices=list(SIZES) + ["tiny"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    print(f"device {args.device}, batch {args.batch} clips of 16 x 224 x 224, {torch.get_num_threads()} threads")
    print(f"{'model':8s} {'90% masked s/step':>18s} {'dense s/step':>13s} {'speed-up':>9s} {'FLOP ratio':>11s}")
    for size in args.sizes:
        kw = dict(embed_dim=64, depth=2, num_heads=4, img_size=64) if size == "tiny" else vars(SIZES[size])
        build = lambda kw=kw: MaskedAutoencoderViT3D(**kw)
        torch.manual_seed(0)
        model = build().to(args.device)
        side = kw.get("img_size", 224)
        clips = torch.randn(args.batch, 3, 16, side, side, device=args.device)
        masked = time_steps(model, lambda m, x: m(x)["loss"], clips, args.steps)
        dense = time_steps(model, dense_step, clips, args.steps)
        shape = (1, 3, 16, side, side)
        macs_masked = meta_macs(build, shape)
        macs_dense = meta_macs(build, shape, call=lambda m, x: m.decoder(
            m.encoder.forward_features(x), torch.arange(m.num_patches).expand(1, -1), 1))
        print(f"{size:8s} {masked:18.3f} {dense:13.3f} {dense / masked:8.2f}x {macs_dense / macs_masked:10.2f}x")


if __name__ == "__main__":
    main()
