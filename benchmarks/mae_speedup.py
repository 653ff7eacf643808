"""MAE's masking speed-up: train-step time (forward, backward, AdamW) at 75% masking versus the same
encoder run on all tokens (mask tokens in the encoder, the paper's Table 1c baseline) with the same decoder.

    uv run python benchmarks/mae_speedup.py [--models vit_base_patch16 vit_large_patch16] [--batch 4]

Prints both times, the measured ratio and the ratio implied by FLOPs (multiply-adds counted on the meta
device). The paper reports 2.8x to 4.1x wall-clock for ViT-L/H on TPUs.
"""

from __future__ import annotations

import argparse
import time

import torch

from vis.core.flops import meta_macs
from vis.core.models import masked_mse, patchify
from vis.mae.model import MaskedAutoencoderViT, mae_vit


def unmasked_step(model: MaskedAutoencoderViT, imgs: torch.Tensor) -> torch.Tensor:
    """Encoder on every token, then the same decoder and the same loss (on a random 75% of patches)."""
    n, length = imgs.shape[0], model.num_patches
    latent = model.encoder.forward_features(imgs)
    identity = torch.arange(length, device=imgs.device).expand(n, -1)
    pred = model.decoder(latent, identity)
    mask = (torch.rand(n, length, device=imgs.device) < model.mask_ratio).float()
    return masked_mse(pred, patchify(imgs, model.patch_size), mask, model.norm_pix_loss)


def time_steps(model, step, imgs, steps: int) -> float:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95))
    for i in range(steps + 1):  # first step is warm-up
        if i == 1:
            t0 = time.perf_counter()
        loss = step(model, imgs)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["vit_base_patch16", "vit_large_patch16"])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    print(f"device {args.device}, batch {args.batch}, {torch.get_num_threads()} threads, {args.steps} timed steps")
    print(f"{'model':20s} {'masked s/step':>14s} {'all-token s/step':>17s} {'speed-up':>9s} {'FLOP ratio':>11s}")
    for name in args.models:
        torch.manual_seed(0)
        model = mae_vit(name).to(args.device)
        imgs = torch.randn(args.batch, 3, 224, 224, device=args.device)
        masked = time_steps(model, lambda m, x: m(x)["loss"], imgs, args.steps)
        full = time_steps(model, unmasked_step, imgs, args.steps)
        keep = 64 if name.endswith("14") else 49
        macs_masked = meta_macs(lambda: mae_vit(name), (1, 3, 224, 224),
                                call=lambda m, x: m(x, noise=torch.empty(1, m.num_patches, device=x.device)))
        macs_enc_vis = meta_macs(lambda: mae_vit(name), (1, 3, 224, 224), call=lambda m, x: m.encoder.forward_features(
            x, ids_keep=torch.zeros(1, keep, dtype=torch.long, device=x.device)))
        macs_enc_all = meta_macs(lambda: mae_vit(name), (1, 3, 224, 224),
                                 call=lambda m, x: m.encoder.forward_features(x))
        flop_ratio = (macs_masked - macs_enc_vis + macs_enc_all) / macs_masked
        print(f"{name:20s} {masked:14.3f} {full:17.3f} {full / masked:8.2f}x {flop_ratio:10.2f}x")


if __name__ == "__main__":
    main()
