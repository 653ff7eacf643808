"""Our ViT-B/16 against timm's vit_base_patch16_224: forward + backward time, ratio in one run.

    uv run python benchmarks/vit_step.py [--batch 8] [--steps 5]
"""

from __future__ import annotations

import argparse
import time

import timm
import torch

from vis.core.models import VisionTransformer


def step_time(model: torch.nn.Module, imgs: torch.Tensor, steps: int) -> float:
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()
        model(imgs).sum().backward()
        model.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    imgs = torch.randn(args.batch, 3, 224, 224, device=args.device)
    ours = VisionTransformer.from_name("vit_base_patch16").to(args.device)
    ref = timm.create_model("vit_base_patch16_224", pretrained=False).to(args.device)
    # interleave to share any warm-up / thermal effects
    t_ours, t_ref = step_time(ours, imgs, args.steps), step_time(ref, imgs, args.steps)
    t_ours = min(t_ours, step_time(ours, imgs, args.steps))
    t_ref = min(t_ref, step_time(ref, imgs, args.steps))
    print(f"device {args.device}, batch {args.batch}, {torch.get_num_threads()} threads")
    print(f"{'model':28s} {'s/step (fwd+bwd)':>17s}")
    print(f"{'vis ViT-B/16':28s} {t_ours:17.3f}")
    print(f"{'timm vit_base_patch16_224':28s} {t_ref:17.3f}")
    print(f"ratio vis / timm: {t_ours / t_ref:.3f}")


if __name__ == "__main__":
    main()
