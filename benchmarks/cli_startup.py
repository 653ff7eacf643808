"""Start-up time of every vis console script: median wall-clock of 5 runs of `--help` and of a misspelt option,
beside `python -c "import torch"` (what any run pays once it starts) as the floor. Goal: under 1.5 s.

    uv run python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

BIN = Path(sys.executable).parent


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scripts() -> list[str]:
    return sorted({ep.name for d in metadata.distributions() if (d.metadata["Name"] or "").startswith("vis-")
                   for ep in d.entry_points if ep.group == "console_scripts"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    floor = wall([sys.executable, "-c", "import torch"], args.runs)
    print(f"median of {args.runs} runs, seconds; floor: python -c 'import torch' = {floor:.2f} s")
    print(f"{'script':18s} {'--help':>8s} {'bad option':>11s} {'help / torch':>13s}")
    worst = 0.0
    for name in scripts():
        h = wall([str(BIN / name), "--help"], args.runs)
        b = wall([str(BIN / name), "--no-such-option"], args.runs)
        worst = max(worst, h, b)
        print(f"{name:18s} {h:8.2f} {b:11.2f} {h / floor:13.2f}")
    print(f"slowest: {worst:.2f} s ({'within' if worst < 1.5 else 'over'} the 1.5 s goal)")


if __name__ == "__main__":
    main()
