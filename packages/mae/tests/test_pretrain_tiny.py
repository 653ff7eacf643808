"""The README's main job: the tiny recipe through the `mae-pretrain` entry point."""

import json

import pytest
from PIL import Image


@pytest.mark.slow
def test_tiny_recipe_learns_and_beats_random_init(tiny_pretrained):
    out, _ = tiny_pretrained
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if "loss" in r]
    assert losses[-1] < 0.6 * losses[0], losses
    summary = records[-1]
    print(f"kNN top-1: MAE {summary['knn_top1']:.3f} vs random init {summary['knn_top1_random_init']:.3f}")
    assert summary["knn_top1"] > summary["knn_top1_random_init"] + 0.02
    assert summary["knn_top1_random_init"] > 0.2  # the baseline itself is well above chance (0.1)


@pytest.mark.slow
def test_tiny_recipe_leaves_checkpoint_log_figure_and_config(tiny_pretrained):
    out, printed = tiny_pretrained
    assert (out / "checkpoints" / "last.pt").is_file()
    assert (out / "checkpoints" / "checkpoint-19.pt").is_file()  # the last epoch of the suite's shorter run
    assert (out / "config.yaml").is_file() and "recipe: tiny" in (out / "config.yaml").read_text()
    assert any((out / "tb").iterdir())
    png = Image.open(out / "figures" / "reconstructions.png")
    assert png.width > 4 * 32 and png.height > 32
    assert "global batch 64" in printed and "knn_top1_random_init" in printed
    assert not list(out.rglob("*.tmp"))
