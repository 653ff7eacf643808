"""MAE ViT-L/16 pre-training step on one GPU at batch 64, 128 and 256: images/s, model-FLOPs utilisation and
peak memory, bf16 autocast, fused AdamW, eager and torch.compile; then the three largest costs from the
profiler at the best setting.

    uv run python benchmarks/gpu_mae.py                                # on the GPU, the full table
    uv run python benchmarks/gpu_mae.py --tiny --device cpu --batches 4 --no-compile   # exercise it on a CPU

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


def make_step(model, step_model, opt, imgs, device):
    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = step_model(imgs)["loss"]
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def run(tiny: bool, batch: int, steps: int, compile_: bool, device: torch.device):
    """(s/step, peak GiB, the step function) for one setting; a fresh model and optimizer each time."""
    model = build(tiny).to(device)
    size = model.encoder.patch_embed.img_size
    imgs = torch.randn(batch, 3, size, size, device=device)
    step_model = torch.compile(model) if compile_ else model
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95),
                            fused=device.type == "cuda")
    step = make_step(model, step_model, opt, imgs, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(5 if compile_ else 3):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / steps
    mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    return dt, mem, step


def top_costs(step, device: torch.device, n: int = 3) -> list[tuple[str, float]]:
    """The n operators with the most self time over 3 profiled steps (device time on a GPU)."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for _ in range(3):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    key = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key, 0), reverse=True)
    total = sum(getattr(e, key, 0) for e in events) or 1
    return [(e.key, getattr(e, key) / total) for e in events[:n]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--tiny", action="store_true", help="a tiny MAE (to exercise the script on a CPU)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    size = 32 if args.tiny else 224
    macs = meta_macs(lambda: build(args.tiny), (1, 3, size, size),
                     call=lambda m, x: m(x, noise=torch.empty(1, m.num_patches, device=x.device)))
    peak = peak_tflops(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}; MAE {'tiny' if args.tiny else 'ViT-L/16'} at {size} px, bf16 autocast, "
          f"{'fused ' if device.type == 'cuda' else ''}AdamW, {args.steps} timed steps")
    print(f"{'batch':>6s} {'mode':8s} {'s/step':>8s} {'img/s':>9s} {'TFLOP/s':>8s} {'MFU':>6s} {'peak GiB':>9s}")
    modes = [("eager", False)] + ([] if args.no_compile else [("compile", True)])
    best = None
    for batch in args.batches:
        for label, comp in modes:
            try:
                dt, mem, step = run(args.tiny, batch, args.steps, comp, device)
            except torch.OutOfMemoryError:
                print(f"{batch:6d} {label:8s} out of memory")
                continue
            tflops = 3 * 2 * macs * batch / dt / 1e12
            mfu = f"{tflops / peak:6.1%}" if peak else "   n/a"
            print(f"{batch:6d} {label:8s} {dt:8.4f} {batch / dt:9.1f} {tflops:8.2f} {mfu} {mem:9.2f}", flush=True)
            if best is None or batch / dt > best[0]:
                best = (batch / dt, batch, label, step)
            else:
                del step
    if best is not None:
        print(f"best: batch {best[1]} {best[2]}, {best[0]:.1f} img/s; largest costs (share of profiled self time):")
        for op, share in top_costs(best[3], device):
            print(f"  {share:6.1%}  {op}")


if __name__ == "__main__":
    main()
