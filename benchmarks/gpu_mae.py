"""MAE ViT-L pre-training step on one GPU: throughput (images/s), model-FLOPs utilisation and peak memory,
bf16 autocast, with and without torch.compile.

    uv run python benchmarks/gpu_mae.py                       # ViT-L/16, batch 64, on the GPU
    uv run python benchmarks/gpu_mae.py --tiny --device cpu   # exercise the script on a CPU

MFU = achieved model FLOPs / peak: model FLOPs of a step are 3 x the forward multiply-adds x 2 (forward +
backward ~ 3 forwards; 2 FLOPs per multiply-add), counted on the meta device.
"""

from __future__ import annotations

import argparse
import time

import torch

from vis.core.flops import meta_macs
from vis.mae.model import MaskedAutoencoderViT, mae_vit

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16, SXM data sheets


def build(tiny: bool) -> MaskedAutoencoderViT:
    if tiny:
        return MaskedAutoencoderViT(img_size=32, patch_size=4, embed_dim=64, depth=2, num_heads=4,
                                    decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=4)
    return mae_vit("vit_large_patch16")


def peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def run(model, imgs, steps: int, compile_: bool, device: torch.device) -> tuple[float, float]:
    step_model = torch.compile(model) if compile_ else model
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95),
                            fused=device.type == "cuda")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    warmup = 3 if not compile_ else 5
    for i in range(warmup + steps):
        if i == warmup:
            sync()
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = step_model(imgs)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    sync()
    dt = (time.perf_counter() - t0) / steps
    mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    return dt, mem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--tiny", action="store_true", help="a tiny MAE (to exercise the script on a CPU)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    model = build(args.tiny).to(device)
    size = model.encoder.patch_embed.img_size
    imgs = torch.randn(args.batch, 3, size, size, device=device)
    macs = meta_macs(lambda: build(args.tiny), (1, 3, size, size),
                     call=lambda m, x: m(x, noise=torch.empty(1, m.num_patches, device=x.device)))
    step_flops = 3 * 2 * macs * args.batch
    peak = peak_tflops(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}; MAE {'tiny' if args.tiny else 'ViT-L/16'} at {size} px, batch {args.batch}, bf16 autocast")
    print(f"{'mode':10s} {'s/step':>8s} {'img/s':>9s} {'TFLOP/s':>8s} {'MFU':>6s} {'peak GiB':>9s}")
    modes = [("eager", False)] + ([] if args.no_compile else [("compile", True)])
    results = {}
    for label, comp in modes:
        dt, mem = run(model, imgs, args.steps, comp, device)
        tflops = step_flops / dt / 1e12
        mfu = f"{tflops / peak:6.1%}" if peak else "   n/a"
        results[label] = dt
        print(f"{label:10s} {dt:8.4f} {args.batch / dt:9.1f} {tflops:8.2f} {mfu} {mem:9.2f}")
    if len(results) == 2:
        print(f"compile speed-up: {results['eager'] / results['compile']:.2f}x")


if __name__ == "__main__":
    main()
