"""The rho-video tiny study: each objective pre-trained on the persistent-shapes MP4s through rho-pretrain,
then linear-probed through rho-linprobe (multi-view test, 3 temporal views), against a random-initialised
backbone probed the same way, and BYOL at rho = 1 against rho = 2 (the paper's direction) for every seed.

    uv run python benchmarks/rho_tiny_study.py [--methods moco byol simclr swav] [--out output/rho-study]
        [--epochs 40] [--probe-epochs 20] [--seeds 0 1 2]

Prints one row per run: final linear-probe top-1 (val, 180 videos) and the wall time of each stage.
Every run is one command (printed), so any row can be rerun alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def run(cmd: list[str]) -> float:
    print("$", " ".join(cmd), flush=True)
    t = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        sys.exit(f"failed: {proc.stderr[-2000:]}")
    return time.time() - t


def probe(out: Path, ckpt: Path | None, epochs: int, seed: int) -> tuple[float, float]:
    args = [str(BIN / "rho-linprobe"), "--recipe", "tiny", "--epochs", str(epochs), "--output-dir", str(out),
            "--seed", str(seed)] + (["--finetune", str(ckpt)] if ckpt else [])
    seconds = run(args)
    records = [json.loads(r) for r in (out / "log.jsonl").read_text().splitlines()]
    return [r["top1"] for r in records if "top1" in r][-1], seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=["moco", "byol", "simclr", "swav"])
    p.add_argument("--out", default="output/rho-study")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--probe-epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="every seed runs BYOL at rho 1 and 2")
    a = p.parse_args()
    out, first = Path(a.out), a.seeds[0]
    rows = [("random init", "-", first, *probe(out / "probe-random", None, a.probe_epochs, first), 0.0)]
    runs = [(m, 2, first) for m in a.methods if m != "byol"]
    runs += [("byol", rho, seed) for seed in a.seeds for rho in (2, 1)] if "byol" in a.methods else []
    for method, rho, seed in runs:
        pre = out / f"{method}-rho{rho}-seed{seed}"
        t_pre = run([str(BIN / "rho-pretrain"), "--recipe", "tiny", "--method", method, "--rho", str(rho),
                     "--epochs", str(a.epochs), "--output-dir", str(pre), "--seed", str(seed)])
        top1, t_probe = probe(out / f"probe-{pre.name}", pre / "checkpoints" / "last.pt", a.probe_epochs, seed)
        rows.append((method, str(rho), seed, top1, t_probe, t_pre))
        print(rows[-1], flush=True)
    print(f"\n| backbone | rho | seed | linear top-1 (%) | pre-train s | probe s |  (load {os.getloadavg()[0]:.1f})")
    print("|---|---|---|---|---|---|")
    for name, rho, seed, top1, t_probe, t_pre in rows:
        print(f"| {name} | {rho} | {seed} | {top1:.1f} | {t_pre:.0f} | {t_probe:.0f} |")


if __name__ == "__main__":
    main()
