"""What BenchDet's multi-scale FPN and its relative position biases cost (Li et al., 2021, sections 2.2 and
4.x): the full Mask R-CNN (4 taps + resolution modules + FPN, shared bias tables) against the same detector
with a single-scale neck (the last, stride-16 map only, one RPN / RoI level) and against the same detector
without relative position bias; train step, inference and peak memory measured in one run, beside the paper's
figures (FPN: about 5% train time, 10% inference time, < 1% memory; rel-pos: about 25% train time, 15%
inference time, 15% memory, for ViT-L at 1024 px on V100s).

    python benchmarks/detbench_cost.py                     # CPU, ViT-B at 384 px, window 12 (24 x 24 grid)
    python benchmarks/detbench_cost.py --device cuda --size l --img 1024 --window 14 --precision bf16
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from collections import OrderedDict

import torch
import torch.nn as nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.rpn import RPNHead

from vis.core.bench import detector_costs
from vis.core.config import vit_size
from vis.core.models.det_layers import AlignedMultiScaleRoIAlign
from vis.detbench.config import BenchDetOptions
from vis.detbench.model import build_detector, head_norm

# paper text: extra cost of (train time, inference time, memory)
PAPER = {"FPN vs single scale": (0.05, 0.10, 0.01), "rel-pos vs none": (0.25, 0.15, 0.15)}


class SingleScale(nn.Module):
    """The trunk's last map (stride p) -> 1x1 and 3x3 convs with norm -> one level "p4"."""

    def __init__(self, net: nn.Module, dim: int, out_channels: int, norm):
        super().__init__()
        self.net, self.out_channels = net, out_channels
        self.neck = nn.Sequential(nn.Conv2d(dim, out_channels, 1, bias=False), norm(out_channels),
                                  nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), norm(out_channels))

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return OrderedDict(p4=self.neck(self.net(x)))


def single_scale(model: nn.Module, det: BenchDetOptions, dim: int, patch: int) -> nn.Module:
    """The same detector with a single-scale neck: every anchor size on the stride-p map, RoIs pooled there."""
    c = det.head_channels
    model.backbone = SingleScale(model.backbone.net, dim, c, head_norm(det.norm))
    model.rpn.anchor_generator = AnchorGenerator((tuple(det.anchor_sizes),), ((0.5, 1.0, 2.0),))
    model.rpn.head = RPNHead(c, 3 * len(det.anchor_sizes), conv_depth=2)
    model.roi_heads.box_roi_pool = AlignedMultiScaleRoIAlign(["p4"], 7, 0, strides=(patch,))
    model.roi_heads.mask_roi_pool = AlignedMultiScaleRoIAlign(["p4"], 14, 0, strides=(patch,))
    return model


def measure(model: nn.Module, args, device: torch.device, autocast) -> tuple[float, float, float]:
    """(train s/iter, inference s/img, peak train memory GB) for one image per step."""
    img = args.img
    images = [torch.rand(3, img, img, device=device)]
    masks = torch.zeros(3, img, img, dtype=torch.uint8, device=device)
    boxes = []
    for k in range(3):
        y0, x0, s = img * k // 4, img // 8, img // 3
        masks[k, y0 : y0 + s, x0 : x0 + s + k * img // 8] = 1
        boxes.append([x0, y0, x0 + s + k * img // 8, y0 + s])
    targets = [{"boxes": torch.tensor(boxes, dtype=torch.float, device=device),
                "labels": torch.tensor([1, 2, 3], device=device), "masks": masks}]
    return detector_costs(model, images, targets, args.steps, device, autocast)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", default="b", choices=["b", "l"])
    ap.add_argument("--img", type=int, default=384)
    ap.add_argument("--window", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    args = ap.parse_args()
    device = torch.device(args.device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
    vit = vit_size({"b": "vit_base_patch16", "l": "vit_large_patch16"}[args.size])
    det = BenchDetOptions(window_size=args.window, drop_path=0.0, checkpoint_blocks=False)
    variants = {"paper (FPN, rel-pos)": (det, False), "single-scale neck": (det, True),
                "no rel-pos": (dataclasses.replace(det, rel_pos_bias=False), False)}
    rows = {}
    for name, (d, single) in variants.items():
        torch.manual_seed(0)
        model = build_detector(vit, d, args.img)
        if single:
            model = single_scale(model, d, vit.embed_dim, vit.patch_size)
        rows[name] = measure(model.to(device), args, device, autocast)
        del model
    print(f"ViT-{args.size.upper()} Mask R-CNN at {args.img} px, window {args.window}, 1 image, {device.type}, "
          f"{args.precision}, {args.steps} steps, load {os.getloadavg()[0]:.1f}")
    print(f"{'variant':<22} {'train s':>8} {'infer s':>8} {'mem GB':>7}")
    for name, (tt, ti, mem) in rows.items():
        print(f"{name:<22} {tt:8.3f} {ti:8.3f} {mem:7.2f}")
    full = rows["paper (FPN, rel-pos)"]
    for label, base in (("FPN vs single scale", rows["single-scale neck"]), ("rel-pos vs none", rows["no rel-pos"])):
        p = PAPER[label]
        extra = [full[i] / base[i] - 1 for i in range(3)]
        print(f"{label:<22} extra train {extra[0]:+.1%}, inference {extra[1]:+.1%}, memory {extra[2]:+.1%} | "
              f"paper: train {p[0]:+.0%}, inference {p[1]:+.0%}, memory {'<1%' if p[2] < 0.015 else f'{p[2]:+.0%}'}")


if __name__ == "__main__":
    main()
