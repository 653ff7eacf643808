"""maest-test: multi-view testing of a fine-tuned MAE-ST classifier (section 4; SlowFast protocol).

Each video of the split is decoded once and seen as K temporal clips (evenly spaced starts) x 3 spatial
crops (left / centre / right of the short-side-resized frames); the video's prediction is the mean of the
views' softmax scores. The paper reports 7 x 3 views; mae_st's script uses 10 x 3. Results go to
<output-dir>/test-<split>.json.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from vis.core.data import parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.dist import start_run
from vis.core.eval.multiview import multiview_accuracy
from vis.core.logger import format_line
from vis.mae_st.config import TestConfig
from vis.mae_st.convert import load_video_classifier, read_video_weights
from vis.mae_st.data import test_transform
from vis.mae_st.finetune import arch_from_checkpoint, build_classifier

log = logging.getLogger("vis")


@torch.no_grad()
def main(cfg: TestConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    weights, info = read_video_weights(cfg.checkpoint)
    arch_from_checkpoint(cfg, info)
    data = parse_data_spec(cfg.data).dataset(cfg.split)
    model = build_classifier(cfg, data.num_classes)
    load_video_classifier(model, weights, cfg.checkpoint, need_head=True)
    model.to(ctx.device)
    views = test_transform(cfg.clip, cfg.input_size, cfg.temporal_views, cfg.spatial_views, cfg.shuffle_frames)
    skips = SkipCount(cfg.max_skipped_fraction, cfg.data, "testing")
    # seeded per batch: frame shuffling (the control) draws the same orders on every run
    summary = multiview_accuracy(model, data, views, cfg.batch_size, ctx, skips, seed=cfg.seed)
    result = {"split": cfg.split, "views": f"{cfg.temporal_views}x{cfg.spatial_views}", **summary}
    if ctx.is_main:
        out = Path(cfg.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"test-{cfg.split}-{cfg.temporal_views}x{cfg.spatial_views}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({**result, "checkpoint": str(cfg.checkpoint), "skipped": skips.skipped}, indent=1))
        tmp.replace(path)
        log.info(format_line(result) + f" ({path})")
    return result


if __name__ == "__main__":  # python -m vis.mae_st.test (torchrun)
    from vis.mae_st import cli

    cli.test.cli()
