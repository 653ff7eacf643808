"""The tiny recipe through detbench-train and detbench-eval on synthetic shapes, from random and from MAE
initialisation (an MAE-layout file): each beats the same detector evaluated after zero steps, measured in the
same test; detbench-eval on the final checkpoint reproduces the evaluation the run wrote itself."""

import json

import pytest
import torch

from vis.core.convert_inits import load_det_vit_kind
from vis.detbench.cli import evaluate, train
from vis.detbench.model import build_detector
from vis.detbench.recipes import tiny

from .layouts import mae_file

STEPS_ARGS = ["--epochs", "4", "--batch-size", "4", "--eval-every", "4", "--num-workers", "0", "--log-every", "8"]


@pytest.mark.parametrize("kind", ["random", "mae"])
def test_tiny_recipe_beats_zero_steps(tmp_path, shapes_root, in_process, kind):
    data = ["--recipe", "tiny", "--data", f"coco:{shapes_root}"]
    init = "random"
    if kind == "mae":
        mae_file(tmp_path / "mae.pt")
        init = f"mae:{tmp_path / 'mae.pt'}"
    out = tmp_path / "run"
    _, printed = in_process(train.run, *data, *STEPS_ARGS, "--init", init, "--output-dir", out)
    written = json.loads((out / "checkpoints" / "coco_eval_epoch3.json").read_text())
    trained, _ = in_process(evaluate.run, *data, "--checkpoint", out / "checkpoints" / "last.pt")
    assert trained == pytest.approx(written, abs=1e-9)  # the stand-alone evaluation equals the run's own

    cfg = tiny()
    torch.manual_seed(cfg.seed)  # what the training run starts from (seed_everything(seed) on rank 0)
    zero = build_detector(cfg.vit, cfg.det, cfg.img_size)
    if kind == "mae":
        assert "trunk initialised from mae weights" in printed
        load_det_vit_kind(zero.backbone.net, tmp_path / "mae.pt", "mae")
    torch.save({"model": zero.state_dict()}, tmp_path / "zero.pt")
    baseline, _ = in_process(evaluate.run, *data, "--checkpoint", tmp_path / "zero.pt")
    print(f"tiny {kind}: box AP {trained['bbox/AP']:.3f} (AP50 {trained['bbox/AP50']:.3f}), mask AP "
          f"{trained['segm/AP']:.3f}; zero steps: box AP {baseline['bbox/AP']:.3f} (AP50 {baseline['bbox/AP50']:.3f})")
    assert trained["bbox/AP"] > baseline["bbox/AP"]
    assert trained["bbox/AP50"] > baseline["bbox/AP50"] + 0.1
