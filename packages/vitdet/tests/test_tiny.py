"""The tiny recipe through vitdet-train and vitdet-eval on synthetic shapes: box AP (COCO, in percent)
clearly above the same detector evaluated after zero steps (random initialisation), measured in the same
test; vitdet-eval on the final checkpoint reproduces the evaluation the training run wrote beside its
checkpoints."""

import json

import pytest
import torch

from vis.vitdet.cli import evaluate, train
from vis.vitdet.model import build_detector
from vis.vitdet.recipes import tiny

STEPS_ARGS = ["--epochs", "20", "--batch-size", "4", "--eval-every", "20", "--num-workers", "0", "--log-every", "40"]


def test_tiny_recipe_beats_zero_steps(tmp_path, tiny_root, in_process):
    data = ["--recipe", "tiny", "--data", f"coco:{tiny_root}"]
    out = tmp_path / "run"
    in_process(train.run, *data, *STEPS_ARGS, "--output-dir", out)
    written = json.loads((out / "checkpoints" / "coco_eval_epoch19.json").read_text())
    assert (out / "checkpoints" / "coco_eval_epoch19_results.json").is_file()

    trained, _ = in_process(evaluate.run, *data, "--checkpoint", out / "checkpoints" / "last.pt")
    assert trained == pytest.approx(written, abs=1e-9)  # the stand-alone evaluation equals the run's own

    cfg = tiny()
    torch.manual_seed(cfg.seed)  # what the training run starts from (seed_everything(seed) on rank 0)
    zero = build_detector(cfg.vit, cfg.det, cfg.img_size)
    torch.save({"model": zero.state_dict()}, tmp_path / "zero.pt")
    baseline, _ = in_process(evaluate.run, *data, "--checkpoint", tmp_path / "zero.pt")
    print(f"tiny: box AP {trained['bbox/AP']:.2f} (AP50 {trained['bbox/AP50']:.2f}), mask AP {trained['segm/AP']:.2f};"
          f" zero steps: box AP {baseline['bbox/AP']:.2f} (AP50 {baseline['bbox/AP50']:.2f})")
    # measured here (160 steps on 32 images, 24 val images): box AP 0.88, AP50 4.20, mask AP 1.51 against 0.00 /
    # 0.00 after zero steps; the full recipe (600 steps on 400 images) reaches 16.8 / 32.9 (docs/vitdet.md)
    assert trained["bbox/AP50"] > baseline["bbox/AP50"] + 2.0 and trained["bbox/AP"] > baseline["bbox/AP"]
