"""FLIP's masking speed-up, in two parts.

1. Train-step time (forward, backward, AdamW) of the image tower + text tower (32 tokens) at mask ratio 0 /
   0.5 / 0.75, with the ratios implied by multiply-adds (counted on the meta device, image + text, one
   image-caption pair). Reference (computed): ViT-L/16 image + text at 50% / 75% = 0.517x / 0.282x of the
   unmasked compute (paper Table 1a: 0.52x / 0.28x FLOPs, 0.50x / 0.33x wall-clock on TPUs).
2. A time-matched tiny comparison: the tiny recipe at each mask ratio trained for the same compute budget
   (CPU seconds of one single-threaded process, each run's schedule sized to the steps its measured CPU time
   per step allows), then zero-shot accuracy on the synthetic scenes' colours and shapes. Equal time, not
   equal epochs: the paper's comparison.

    uv run python benchmarks/flip_speedup.py [--sizes b16 l16] [--batch 8] [--budget-s 240] [--no-tiny]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import torch

from vis.core.flops import meta_macs
from vis.core.models.text import TextTransformer
from vis.flip.cli import pretrain, zeroshot
from vis.flip.model import FLIP, ImageTower
from vis.flip.recipes import SIZES

RATIOS = (0.0, 0.5, 0.75)


def build(size: str, ratio: float) -> FLIP:
    vit, t, dim = SIZES[size]
    return FLIP(ImageTower(224, vit.patch_size, vit.embed_dim, vit.depth, vit.num_heads, dim),
                TextTransformer(49408, 32, t.text_width, t.text_depth, t.text_heads, dim), mask_ratio=ratio)


def macs(size: str, ratio: float) -> tuple[float, float]:
    """(image tower, text tower) multiply-adds for one image and one 32-token caption."""
    grid = 224 // SIZES[size][0].patch_size
    keep = int(grid * grid * (1 - ratio))
    ids = (lambda d: torch.zeros(1, keep, dtype=torch.long, device=d)) if ratio else (lambda d: None)
    image = meta_macs(lambda: build(size, ratio), (1, 3, 224, 224), call=lambda m, x: m.visual(x, ids(x.device)))
    text = meta_macs(lambda: build(size, ratio), (1, 32), call=lambda m, t: m.text(t.long()))
    return image, text


def step_time(size: str, ratio: float, batch: int, steps: int, device: str) -> float:
    torch.manual_seed(0)
    model = build(size, ratio).to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.95))
    x = torch.randn(batch, 3, 224, 224, device=device)
    tokens = torch.randint(1, 49408, (batch, 32), device=device)
    for i in range(steps + 1):  # the first step is warm-up
        if i == 1:
            t0 = time.perf_counter()
        model(x, tokens)["loss"].backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (time.perf_counter() - t0) / steps


def towers(args) -> None:
    print(f"device {args.device}, batch {args.batch}, {torch.get_num_threads()} threads, {args.steps} timed steps")
    print(f"{'model':6s} {'mask':>5s} {'image GMACs':>12s} {'text GMACs':>11s} {'FLOP ratio':>11s} "
          f"{'s/step':>8s} {'time ratio':>11s}")
    for size in args.sizes:
        base_macs, base_time = None, None
        for r in RATIOS:
            image, text = macs(size, r)
            t = step_time(size, r, args.batch, args.steps, args.device) if size in args.timed else float("nan")
            base_macs = base_macs or image + text
            base_time = base_time or t
            print(f"{size:6s} {r:5.2f} {image / 1e9:12.2f} {text / 1e9:11.2f} {(image + text) / base_macs:10.3f}x "
                  f"{t:8.3f} {t / base_time:10.3f}x")


def _cpu_seconds(run) -> float:
    t0 = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        run()
    return time.process_time() - t0


def time_matched(budget_s: float) -> None:
    """Each mask ratio: measure the tiny recipe's CPU seconds per step, size a schedule to the budget, train,
    and score zero-shot colour and shape accuracy. One thread and in-process data, so that the budget is CPU
    time of this process alone: equal for every ratio however loaded the machine is (wall time is not)."""
    torch.set_num_threads(1)
    print(f"\ntime-matched tiny recipe: {budget_s:.0f} CPU seconds of training per mask ratio (batch 256, one "
          "thread, data made in the training process)")
    print(f"{'mask':>5s} {'cpu s/step':>10s} {'steps':>6s} {'samples':>8s} {'train cpu s':>11s} {'wall s':>7s} "
          f"{'colour top1':>12s} {'shape top1':>11s}")
    with tempfile.TemporaryDirectory() as tmp:
        for r in RATIOS:
            base = ["--mask-ratio", str(r), "--zeroshot-data", "scenes:shape", "--num-workers", "0"]
            probe = [_cpu_seconds(lambda n=n: pretrain.run([*base, "--stop-after-steps", str(n), "--output-dir",
                                                           str(Path(tmp) / f"probe{r}-{n}")])) for n in (3, 11)]
            per_step = (probe[1] - probe[0]) / 8  # the difference cancels start-up and the first step's cost
            steps = max(int(budget_s / per_step) // 10 * 10, 10)
            out = Path(tmp) / f"run{r}"
            epochs = steps // 10  # virtual epochs of 10 steps (a pass over the 20,000 scenes is 78)
            wall = time.perf_counter()
            cpu = _cpu_seconds(lambda: pretrain.run([*base, "--epochs", str(epochs), "--warmup-epochs",
                                                      str(epochs / 10), "--samples-per-epoch", "2560",
                                                      "--output-dir", str(out)]))
            wall = time.perf_counter() - wall
            with contextlib.redirect_stdout(io.StringIO()):
                scores = [zeroshot.run(["--checkpoint", str(out / "checkpoints" / "last.pt"), "--data",
                                        f"scenes:{task}", "--output-dir", str(out / task)])["top1"]
                          for task in ("color", "shape")]
            print(f"{r:5.2f} {per_step:10.3f} {steps:6d} {steps * 256:8d} {cpu:11.0f} {wall:7.0f} "
                  f"{scores[0]:12.1f} {scores[1]:11.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["b16", "l16"], choices=list(SIZES))
    ap.add_argument("--timed", nargs="*", default=["b16"], help="sizes whose step time is measured")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--budget-s", type=float, default=240.0, help="CPU seconds of training per ratio (tiny part)")
    ap.add_argument("--no-tiny", action="store_true", help="skip the time-matched tiny comparison")
    args = ap.parse_args()
    towers(args)
    if not args.no_tiny:
        time_matched(args.budget_s)


if __name__ == "__main__":
    main()
