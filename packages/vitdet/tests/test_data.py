"""Detection data in vis-core[detection]: the synthetic COCO-format shapes, the pycocotools reader (polygon,
RLE and uncompressed RLE masks, crowd flags, contiguous labels), large-scale jitter and the evaluator."""

import json

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from vis.core.data.coco import CocoDataset, load_coco
from vis.core.data.lsj import eval_resize, large_scale_jitter, tight_boxes
from vis.core.data.shapes_coco import write_split
from vis.core.eval.coco import CocoEvaluator, coco_stats


def test_synthetic_shapes_are_deterministic_and_read_back(tmp_path):
    write_split(tmp_path / "a", "train", 6, 64, seed=3)
    write_split(tmp_path / "b", "train", 6, 64, seed=3)
    a = (tmp_path / "a" / "annotations" / "instances_train.json").read_text()
    assert a == (tmp_path / "b" / "annotations" / "instances_train.json").read_text()
    doc = json.loads(a)
    kinds = {type(ann["segmentation"]).__name__ for ann in doc["annotations"]}
    assert kinds == {"list", "dict"}  # polygons and RLE both exercised
    data = CocoDataset(tmp_path / "a" / "annotations" / "instances_train.json", tmp_path / "a" / "train")
    assert len(data) == 6 and data.num_classes == 3
    for i in range(len(data)):
        image, t = data[i]
        assert image.dtype == torch.uint8 and image.shape == (3, 64, 64)
        assert len(t["boxes"]) == len(t["masks"]) == len(t["labels"]) >= 1
        # the stored boxes are the tight boxes of the generated masks; pycocotools rasterises polygons itself
        torch.testing.assert_close(t["boxes"], tight_boxes(t["masks"]), atol=2.0, rtol=0)


@pytest.fixture
def crowd_file(tmp_path):
    """One 40x60 image: a polygon instance (category 7), an uncompressed-RLE crowd region (category 3)."""
    crowd = np.zeros((40, 60), np.uint8)
    crowd[20:35, 5:25] = 1
    counts = mask_utils.frPyObjects({"size": [40, 60], "counts": _uncompressed(crowd)}, 40, 60)
    assert mask_utils.decode(counts).sum() == crowd.sum()
    doc = {"images": [{"id": 5, "file_name": "x.png", "height": 40, "width": 60}],
           "categories": [{"id": 3, "name": "a"}, {"id": 7, "name": "b"}],
           "annotations": [
               {"id": 1, "image_id": 5, "category_id": 7, "iscrowd": 0, "area": 200.0, "bbox": [30, 2, 20, 10],
                "segmentation": [[30, 2, 50, 2, 50, 12, 30, 12]]},
               {"id": 2, "image_id": 5, "category_id": 3, "iscrowd": 1, "area": float(crowd.sum()),
                "bbox": [5, 20, 20, 15], "segmentation": {"size": [40, 60], "counts": _uncompressed(crowd)}}]}
    (tmp_path / "images").mkdir()
    from PIL import Image

    Image.fromarray(np.full((40, 60, 3), 128, np.uint8)).save(tmp_path / "images" / "x.png")
    (tmp_path / "ann.json").write_text(json.dumps(doc))
    return tmp_path


def _uncompressed(m: np.ndarray) -> list[int]:
    flat, counts, value, run = m.T.reshape(-1), [], 0, 0  # column-major runs starting with zeros
    for v in flat:
        if v != value:
            counts.append(run)
            value, run = v, 0
        run += 1
    return [*counts, run]


def test_reader_keeps_crowd_flags_and_maps_categories(crowd_file):
    data = CocoDataset(crowd_file / "ann.json", crowd_file / "images")
    _, t = data[0]
    assert t["labels"].tolist() == [2, 1]  # category 7 -> 2, 3 -> 1
    assert t["iscrowd"].tolist() == [False, True]
    assert t["masks"][1].sum() == 15 * 20 and t["image_id"] == 5 and t["orig_size"] == (40, 60)


def test_lsj_keeps_boxes_masks_and_crowd_flags_consistent(crowd_file):
    data = CocoDataset(crowd_file / "ann.json", crowd_file / "images")
    image, target = data[0]
    sizes = set()
    for seed in range(40):
        torch.manual_seed(seed)
        img, t = large_scale_jitter(image, target, 48, (0.3, 2.0))
        sizes.add(tuple(img.shape[1:]))
        assert img.shape[0] == 3 and max(img.shape[1:]) <= 48
        assert len(t["boxes"]) == len(t["masks"]) == len(t["labels"]) == len(t["iscrowd"])
        assert t["masks"].shape[1:] == img.shape[1:]
        assert t["masks"].flatten(1).any(1).all()  # empty instances dropped
        torch.testing.assert_close(t["boxes"], tight_boxes(t["masks"]), rtol=0, atol=0)
        assert all(c == (lab == 1) for c, lab in zip(t["iscrowd"].tolist(), t["labels"].tolist(), strict=True))
    assert len(sizes) > 10  # the scale (and crop) really varies


def test_eval_resize_scales_the_long_side():
    image = torch.zeros(3, 30, 60, dtype=torch.uint8)
    target = {"boxes": torch.tensor([[6.0, 3, 12, 9]]), "masks": torch.ones(1, 30, 60, dtype=torch.uint8)}
    img, t = eval_resize(image, target, 120)
    assert img.shape == (3, 60, 120) and t["masks"].shape == (1, 60, 120)
    torch.testing.assert_close(t["boxes"], torch.tensor([[12.0, 6, 24, 18]]))


def test_evaluator_equals_pycocotools_on_a_known_ap(tmp_path):
    """One ground-truth box per image; image 1: a false positive scored above the hit -> precision 1/2 at
    every recall for that class... computed by hand: AP over IoU 0.5:0.95 of this set is known below."""
    gt = {"images": [{"id": i, "height": 100, "width": 100} for i in (1, 2)],
          "categories": [{"id": 9, "name": "x"}],
          "annotations": [{"id": i, "image_id": i, "category_id": 9, "bbox": [10, 10, 40, 40], "area": 1600.0,
                           "iscrowd": 0, "segmentation": [[10, 10, 50, 10, 50, 50, 10, 50]]} for i in (1, 2)]}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    coco = load_coco(tmp_path / "gt.json")
    ev = CocoEvaluator(coco, [9], ("bbox",))
    # scores: hit on image 2 (0.9), false positive on image 1 (0.8), hit on image 1 (0.7)
    outputs = {1: ([[60.0, 60, 90, 90], [10, 10, 50, 50]], [0.8, 0.7]), 2: ([[10.0, 10, 50, 50]], [0.9])}
    for image_id, (boxes, scores) in outputs.items():
        out = {"boxes": torch.tensor(boxes), "scores": torch.tensor(scores), "labels": torch.ones(len(boxes)).long()}
        ev.add(out, {"image_id": image_id, "orig_size": (100, 100)}, (100, 100))
    metrics = ev.summarize(tmp_path, "eval")
    # by hand: ranked hit, miss, hit -> precision envelope 1 up to recall 0.5, 2/3 up to recall 1:
    # AP = (51 * 1 + 50 * 2/3) / 101 at every IoU threshold (the boxes are exact)
    known = (51 + 50 * 2 / 3) / 101 * 100
    assert metrics["bbox/AP"] == pytest.approx(known, abs=1e-6) and metrics["bbox/AP50"] == pytest.approx(known)
    from pycocotools.cocoeval import COCOeval

    own = COCOeval(coco, coco.loadRes(str(tmp_path / "eval_results.json")), "bbox")
    own.evaluate(), own.accumulate(), own.summarize()
    assert metrics["bbox/AP"] == pytest.approx(own.stats[0] * 100, abs=1e-9)
    assert json.loads((tmp_path / "eval.json").read_text()) == metrics
    assert coco_stats(coco, [], "bbox")["AP"] == 0.0
