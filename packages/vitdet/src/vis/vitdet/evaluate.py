"""vitdet-eval: COCO box and mask AP (pycocotools) of a detector checkpoint on a split, on every rank's
share of the images, merged on rank 0; metrics and results written as JSON beside the checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vis.core.convert import read_checkpoint, strict_load
from vis.core.data.coco_spec import parse_detection_spec
from vis.core.dist import start_run
from vis.core.errors import UserError
from vis.core.eval.detection import evaluate_detector
from vis.core.logger import format_line
from vis.vitdet.config import EvalDetConfig
from vis.vitdet.model import build_detector

log = logging.getLogger("vis")


def detector_state(cfg: EvalDetConfig) -> tuple[dict, EvalDetConfig]:
    """The weights, and the options to build them with: a vitdet-train checkpoint carries its own config."""
    state = read_checkpoint(cfg.checkpoint)
    if "config" in state and isinstance(state["config"], dict) and "det" in state["config"]:
        from vis.core.config import ViTOptions
        from vis.vitdet.config import DetectorOptions

        c = state["config"]
        cfg.vit, cfg.det, cfg.img_size = ViTOptions(**c["vit"]), DetectorOptions(**c["det"]), c["img_size"]
    sd = state.get("model", state)
    if not isinstance(sd, dict) or "rpn.head.conv.0.0.weight" not in sd:
        raise UserError("not a detector checkpoint", str(cfg.checkpoint), "expected vitdet-train weights")
    return sd, cfg


def main(cfg: EvalDetConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    data = parse_detection_spec(cfg.data).dataset(cfg.split)
    sd, cfg = detector_state(cfg)
    model = build_detector(cfg.vit, cfg.det, cfg.img_size)
    strict_load(model, sd, str(cfg.checkpoint))
    model.to(ctx.device)
    out = Path(cfg.checkpoint).parent
    metrics = evaluate_detector(model, data, cfg.img_size, ctx.device, cfg.batch_size, out, cfg.max_skipped_fraction,
                                cfg.data, f"coco_eval_{cfg.split}")
    if ctx.is_main:
        log.info(format_line(metrics))
    return metrics


if __name__ == "__main__":
    from vis.vitdet import cli

    cli.evaluate.cli()
