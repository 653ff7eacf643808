"""The training stage on the shared Trainer: a stopped run resumes to bitwise the same weights; two gloo
processes with one image each equal one process with two (per-image losses, per-image seeds); --init loads
an MAE checkpoint strictly (patch kernel 4 -> 8 and the position table resampled)."""

import json

import pytest
import torch

from vis.core import checkpoint as ckpt
from vis.core.models.vit import VisionTransformer
from vis.core.testing import assert_bitwise_equal, detector_two_processes_match_one, final_weights
from vis.vitdet.cli import train

run = train.run


def records(out) -> list[dict]:
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_stopped_run_resumes_bitwise(tmp_path, fast_args, in_process):
    args = [*fast_args, "--stop-after-steps", "4", "--epochs", "1"]
    in_process(run, *args, "--output-dir", tmp_path / "ref")
    in_process(run, *args, "--stop-after-steps", "2", "--output-dir", tmp_path / "run")
    _, printed = in_process(run, *args, "--output-dir", tmp_path / "run")
    assert "resumed from" in printed
    assert_bitwise_equal(final_weights(tmp_path / "ref"), final_weights(tmp_path / "run"))
    assert [r["step"] for r in records(tmp_path / "run")] == [1, 2, 3, 4]


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env):
    """(This caught torchvision's MultiScaleRoIAlign keeping the level scales it inferred from the first
    batch's image sizes.)"""
    detector_two_processes_match_one("vitdet-train", "vis.vitdet.train", run, fast_args, tmp_path, gloo_env, 29861)


def tiny_mae_file(path, patch: int = 4, img: int = 32) -> dict:
    """An MAE checkpoint in vis's layout (encoder.* timm names + decoder.*) of the tiny encoder size."""
    enc = VisionTransformer(img_size=img, patch_size=patch, num_classes=0, embed_dim=64, depth=4, num_heads=4)
    sd = {f"encoder.{k}": v for k, v in enc.state_dict().items()}
    sd["decoder.mask_token"] = torch.zeros(1, 1, 32)
    ckpt.save_atomic({"model": sd}, path)
    return enc.state_dict()


def test_mae_init_is_strict_and_resamples(tmp_path, fast_args, in_process):
    enc = tiny_mae_file(tmp_path / "mae.pt")
    _, printed = in_process(run, *fast_args, "--init", tmp_path / "mae.pt", "--stop-after-steps", "1", "--lr", "0",
                            "--output-dir", tmp_path / "out")
    assert "rel_pos" in printed  # the relative-position tables are what stays at initialisation
    w = final_weights(tmp_path / "out")
    torch.testing.assert_close(w["backbone.net.blocks.2.mlp.fc1.weight"], enc["blocks.2.mlp.fc1.weight"])
    torch.testing.assert_close(w["backbone.net.pos_embed"], enc["pos_embed"])  # 8x8 + cls: stored as is
    assert w["backbone.net.patch_embed.proj.weight"].shape[-1] == 8  # resampled 4 -> 8
    sd = ckpt.load(tmp_path / "mae.pt")
    sd["model"]["encoder.extra.weight"] = torch.zeros(1)
    ckpt.save_atomic(sd, tmp_path / "extra.pt")
    with pytest.raises(SystemExit) as stop:
        in_process(run, *fast_args, "--init", tmp_path / "extra.pt", "--output-dir", tmp_path / "bad")
    assert stop.value.code == 2 and not (tmp_path / "bad").exists()
