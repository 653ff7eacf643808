"""detbench-eval: COCO box and mask AP (pycocotools) of a detbench-train checkpoint on a split, on every
rank's share of the images, merged on rank 0; metrics and results written as JSON beside the checkpoint."""

from __future__ import annotations

from typing import Any

from vis.core.det_train import evaluate_checkpoint
from vis.detbench.config import BenchDetOptions, EvalBenchConfig
from vis.detbench.model import build_detector


def main(cfg: EvalBenchConfig) -> dict[str, Any]:
    return evaluate_checkpoint(cfg, BenchDetOptions, lambda c: build_detector(c.vit, c.det, c.img_size))


if __name__ == "__main__":
    from vis.detbench import cli

    cli.evaluate.cli()
