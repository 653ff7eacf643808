"""vitdet-eval: COCO box and mask AP (pycocotools) of a detector checkpoint on a split, on every rank's
share of the images, merged on rank 0; metrics and results written as JSON beside the checkpoint."""

from __future__ import annotations

from typing import Any

from vis.core.det_train import evaluate_checkpoint
from vis.vitdet.config import DetectorOptions, EvalDetConfig
from vis.vitdet.model import build_detector


def main(cfg: EvalDetConfig) -> dict[str, Any]:
    return evaluate_checkpoint(cfg, DetectorOptions, lambda c: build_detector(c.vit, c.det, c.img_size))


if __name__ == "__main__":
    from vis.vitdet import cli

    cli.evaluate.cli()
