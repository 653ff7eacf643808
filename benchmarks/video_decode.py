"""Video decoding throughput: clips per second per core through vis-core's readers (PyAV, and torchcodec
when it loads here), on the built-in moving-shapes MP4s or a Kinetics CSV, with repeated sampling R clips
per decode.

    uv run python benchmarks/video_decode.py [--data kinetics:PATH] [--videos 100] [--repeats 1 2 4]

Prints clips per CPU second (one decoding thread, one torch thread) for each backend and R (the paper's
Table 2d: R = 2 and 4 give 1.8x and 3.0x the data throughput of R = 1).
"""

from __future__ import annotations

import argparse
import time

import torch

from vis.core.data.specs import parse_data_spec
from vis.core.data.video import ClipSampler, ClipSpec
from vis.core.data.video_io import backend_available
from vis.core.data.video_transforms import ClipCropFlip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="moving-shapes")
    ap.add_argument("--videos", type=int, default=100)
    ap.add_argument("--repeats", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--num-frames", type=int, default=16)
    ap.add_argument("--sampling-rate", type=int, default=1)
    ap.add_argument("--size", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = parse_data_spec(args.data).dataset("train")
    n = min(args.videos, len(data))
    print(f"{args.data}: {n} videos, clips of {args.num_frames} x {args.sampling_rate}, crop {args.size}, 1 core")
    print(f"{'backend':11s} {'R':>2s} {'clips/s':>9s} {'vs R=1':>7s}")
    for backend in ("pyav", "torchcodec"):
        if not backend_available(backend):
            print(f"{backend:11s} not loadable here")
            continue
        base = None
        for r in args.repeats:
            sampler = ClipSampler(ClipSpec(args.num_frames, args.sampling_rate), ClipCropFlip(args.size), repeats=r,
                                  backend=backend)
            t0 = time.process_time()  # CPU time of this one-threaded process: per core, even on a busy machine
            for i in range(n):
                sampler(data[i][0])
            rate = n * r / (time.process_time() - t0)
            base = base or rate
            print(f"{backend:11s} {r:2d} {rate:9.1f} {rate / base:6.2f}x")


if __name__ == "__main__":
    main()
