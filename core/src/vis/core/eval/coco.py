"""COCO box and mask AP with pycocotools (vis-core[detection]): every rank converts its share of the
detections to COCO results, rank 0 gathers them, runs COCOeval and writes the metrics and results as JSON;
every rank gets the metrics back."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

STATS = ("AP", "AP50", "AP75", "APs", "APm", "APl")


def coco_stats(coco_gt, results: list[dict], iou_type: str) -> dict[str, float]:
    """COCOeval's six AP numbers (in percent) of `results` against `coco_gt`; 0 with no detections."""
    from pycocotools.cocoeval import COCOeval

    if not results:
        return dict.fromkeys(STATS, 0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(coco_gt, coco_gt.loadRes(results), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {k: float(v) * 100 for k, v in zip(STATS, ev.stats[:6], strict=True)}


def to_results(output: dict, image_id: int, cat_ids: list[int], orig_size: tuple[int, int], size: tuple[int, int],
               masks: bool = True) -> list[dict]:
    """One image's detections (boxes xyxy at `size`, masks [N, 1, h, w] probabilities) as COCO results at the
    original size: xywh boxes, category ids, RLE masks thresholded at 0.5."""
    from pycocotools import mask as mask_utils

    boxes = output["boxes"].float().cpu() * torch.tensor([orig_size[1] / size[1], orig_size[0] / size[0]] * 2)
    xywh = torch.cat([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], 1).tolist()
    scores, labels = output["scores"].tolist(), output["labels"].tolist()
    out = [{"image_id": image_id, "category_id": cat_ids[lab - 1], "bbox": [round(v, 2) for v in b], "score": s}
           for b, s, lab in zip(xywh, scores, labels, strict=True)]
    if masks and "masks" in output and len(out):
        m = output["masks"].float().cpu()
        if tuple(m.shape[-2:]) != tuple(orig_size):
            m = F.interpolate(m, size=orig_size, mode="bilinear", align_corners=False)
        binary = np.asfortranarray((m[:, 0] > 0.5).numpy().astype(np.uint8).transpose(1, 2, 0))
        for r, rle in zip(out, mask_utils.encode(binary), strict=True):
            r["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    return out


class CocoEvaluator:
    """Collects results on each rank; `summarize` merges them on rank 0 and evaluates."""

    def __init__(self, coco_gt, cat_ids: list[int], iou_types: tuple[str, ...] = ("bbox", "segm")):
        self.coco_gt, self.cat_ids, self.iou_types = coco_gt, cat_ids, iou_types
        self.results: list[dict] = []

    def add(self, output: dict, target: dict, size: tuple[int, int]) -> None:
        self.results += to_results(output, target["image_id"], self.cat_ids, target["orig_size"], size,
                                   "segm" in self.iou_types)

    def summarize(self, out_dir: str | Path | None = None, name: str = "coco_eval") -> dict[str, float]:
        parts = [self.results]
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            parts = [None] * dist.get_world_size()
            dist.all_gather_object(parts, self.results)
        metrics: dict[str, float] = {}
        if not dist.is_initialized() or dist.get_rank() == 0:
            results = sorted((r for p in parts for r in p), key=lambda r: (r["image_id"], -r["score"]))
            for t in self.iou_types:
                res = [r for r in results if t == "bbox" or "segmentation" in r]
                metrics.update({f"{t}/{k}": v for k, v in coco_stats(self.coco_gt, res, t).items()})
            if out_dir is not None:
                out = Path(out_dir)
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{name}.json").write_text(json.dumps(metrics, indent=1))
                (out / f"{name}_results.json").write_text(json.dumps(results))
        if dist.is_initialized() and dist.get_world_size() > 1:
            box = [metrics]
            dist.broadcast_object_list(box, src=0)
            metrics = box[0]
        return metrics
