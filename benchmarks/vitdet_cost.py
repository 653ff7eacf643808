"""What global attention costs in ViTDet (paper Table 3, ViT-L, 1024 px, A100): window-only vs 4 global
blocks vs all global, as trunk multiply-adds, train-step and inference time measured in one run, beside the
paper's ratios; with --detector, the ViT-B Mask R-CNN train step and inference at --img (1024 on a GPU) for
batch 1 and 2, with peak memory, beside the detectron2 README's A100 figures.

    python benchmarks/vitdet_cost.py                       # CPU, ViT-B at 448 px, window 7 (28 x 28 grid)
    python benchmarks/vitdet_cost.py --device cuda --size l --img 1024 --window 14 --detector --precision bf16
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import torch

from vis.core.bench import detector_costs, timed
from vis.core.flops import meta_macs
from vis.core.models.vit_det import DetViT
from vis.vitdet.config import DetectorOptions
from vis.vitdet.model import build_detector
from vis.vitdet.recipes import TINY_DET, TINY_VIT, det_vit

# paper Table 3 (ViT-L, relative to window-only): params, train memory, test time
PAPER = {"window only": (1.00, 1.00, 1.00), "4 global": (1.00, 1.39, 1.16), "all global": (1.00, 3.34, 1.86)}
# detectron2 projects/ViTDet README, A100: train memory GB (batch 1 / GPU), train s/iter, inference s/img
README_B = {"mask_rcnn": (10.9, 0.314, 0.079), "cascade": (12.3, 0.362, 0.089)}


def trunk_table(args, device, autocast) -> None:
    vit = TINY_VIT if args.tiny else det_vit(args.size)
    depth = vit.depth
    variants = {"window only": [], "4 global": None, "all global": list(range(depth))}
    rows = {}
    for name, blocks in variants.items():
        kw = dict(img_size=args.img, embed_dim=vit.embed_dim, depth=depth, num_heads=vit.num_heads,
                  window_size=args.window, global_blocks=blocks, checkpoint_blocks=False)
        macs = meta_macs(lambda kw=kw: DetViT(**kw), (1, 3, args.img, args.img))
        model = DetViT(**kw).to(device)
        x = torch.randn(args.batch, 3, args.img, args.img, device=device)

        def train_step(model=model):
            with autocast:
                model(x).float().mean().backward()

        def infer(model=model):
            with torch.no_grad(), autocast:
                model(x)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        t_train = timed(train_step, args.steps, device)
        mem = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
        t_inf = timed(infer, args.steps, device)
        rows[name] = (macs, t_train, t_inf, mem)
        del model
    base = rows["window only"]
    size = "tiny" if args.tiny else args.size.upper()
    print(f"ViT-{size} trunk at {args.img} px, window {args.window}, batch {args.batch}, "
          f"{device.type}, {args.precision}, load {os.getloadavg()[0]:.1f}")
    print(f"{'variant':<12} {'GMACs':>8} {'train s':>8} {'infer s':>8} {'mem GB':>7} | ratios: macs train infer "
          f"mem | paper (ViT-L 1024): params mem test-time")
    for name, (macs, tt, ti, mem) in rows.items():
        p = PAPER[name]
        print(f"{name:<12} {macs / 1e9:8.1f} {tt:8.3f} {ti:8.3f} {mem:7.2f} | {macs / base[0]:.2f}x "
              f"{tt / base[1]:.2f}x {ti / base[2]:.2f}x {mem / base[3]:.2f}x | {p[0]:.2f}x {p[1]:.2f}x {p[2]:.2f}x")


def detector_table(args, device, autocast) -> None:
    vit, det = (TINY_VIT, TINY_DET) if args.tiny else (det_vit("b"), DetectorOptions(checkpoint_blocks=False))
    model = build_detector(vit, dataclasses.replace(det, num_classes=80), args.img).to(device)
    mem, it, inf = README_B["mask_rcnn"]
    print(f"ViT-{'tiny' if args.tiny else 'B'} Mask R-CNN at {args.img} px on {device.type} ({args.precision}); "
          f"README A100: train {mem} GB, {it} s/iter; inference {inf} s/img")
    for batch in (1, 2):
        images = [torch.rand(3, args.img, args.img, device=device) for _ in range(batch)]
        masks = torch.zeros(3, args.img, args.img, dtype=torch.uint8, device=device)
        u = args.img // 10  # three overlapping boxes that scale with the image (100 px apart at 1024)
        boxes = torch.tensor([[u / 2, u * k, u * (2.5 + k), u * (k + 2)] for k in range(3)], device=device)
        for k, (x0, y0, x1, y1) in enumerate(boxes.int().tolist()):
            masks[k, y0:y1, x0:x1] = 1
        labels = torch.tensor([1, 2, 3], device=device)
        targets = [{"boxes": boxes, "labels": labels, "masks": masks}] * batch
        t_train, t_inf, mem = detector_costs(model, images, targets, args.steps, device, autocast)
        t_inf /= batch
        print(f"batch {batch}: train {t_train:.3f} s/iter, peak memory {mem:.2f} GB; inference {t_inf:.3f} s/img")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", default="b", choices=["b", "l", "h"])
    ap.add_argument("--img", type=int, default=448)
    ap.add_argument("--window", type=int, default=7,
                    help="window size (14 at 1024 px; on CPU 7 at 448 px keeps the 4-5 windows per side of 64 / 14)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--detector", action="store_true", help="also time the ViT-B Mask R-CNN")
    ap.add_argument("--no-trunk", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="the tiny recipe's ViT and heads (a quick check of the script)")
    args = ap.parse_args()
    device = torch.device(args.device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    if not args.no_trunk:
        trunk_table(args, device, autocast)
    if args.detector:
        detector_table(args, device, autocast)


if __name__ == "__main__":
    main()
