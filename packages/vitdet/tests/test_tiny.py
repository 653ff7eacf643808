"""The tiny recipe through vitdet-train and vitdet-eval on synthetic shapes: box AP clearly above the same
detector evaluated after zero steps (random initialisation), measured in the same test; vitdet-eval on the
final checkpoint reproduces the evaluation the training run wrote beside its checkpoints."""

import json

import pytest
import torch

from vis.vitdet.cli import evaluate, train
from vis.vitdet.model import build_detector
from vis.vitdet.recipes import tiny

STEPS_ARGS = ["--epochs", "4", "--batch-size", "4", "--eval-every", "4", "--num-workers", "0", "--log-every", "8"]


def test_tiny_recipe_beats_zero_steps(tmp_path, shapes_root, in_process):
    data = ["--recipe", "tiny", "--data", f"coco:{shapes_root}"]
    out = tmp_path / "run"
    in_process(train.run, *data, *STEPS_ARGS, "--output-dir", out)
    written = json.loads((out / "checkpoints" / "coco_eval_epoch3.json").read_text())
    assert (out / "checkpoints" / "coco_eval_epoch3_results.json").is_file()

    trained, _ = in_process(evaluate.run, *data, "--checkpoint", out / "checkpoints" / "last.pt")
    assert trained == pytest.approx(written, abs=1e-9)  # the stand-alone evaluation equals the run's own

    cfg = tiny()
    torch.manual_seed(cfg.seed)  # what the training run starts from (seed_everything(seed) on rank 0)
    zero = build_detector(cfg.vit, cfg.det, cfg.img_size)
    torch.save({"model": zero.state_dict()}, tmp_path / "zero.pt")
    baseline, _ = in_process(evaluate.run, *data, "--checkpoint", tmp_path / "zero.pt")
    print(f"tiny: box AP {trained['bbox/AP']:.2f} (AP50 {trained['bbox/AP50']:.2f}), mask AP {trained['segm/AP']:.2f};"
          f" zero steps: box AP {baseline['bbox/AP']:.2f} (AP50 {baseline['bbox/AP50']:.2f})")
    # measured here: 0.11 vs 0.00 box AP50 after these 32 steps (a weak but real signal; docs/vitdet.md has the
    # recipe's full-length numbers)
    assert trained["bbox/AP50"] > baseline["bbox/AP50"] + 0.05
