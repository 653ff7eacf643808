"""The training stage on the shared Trainer: a stopped run resumes to bitwise the same weights; two gloo
processes with one image each equal one process with two (per-image losses, per-image seeds); --init loads
an MAE checkpoint strictly (patch kernel 4 -> 8 and the position table resampled)."""

import json

import pytest
import torch

from vis.core import checkpoint as ckpt
from vis.core.models.vit import VisionTransformer
from vis.core.testing import assert_bitwise_equal, final_weights, run_script, torchrun
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


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env, in_process):
    """Tolerance: DDP averages the two images' gradients in another order than one process (float32
    rounding); the losses of the first steps agree to 1e-4 relative. (This caught torchvision's
    MultiScaleRoIAlign keeping the level scales it inferred from the first batch's image sizes.)"""
    args = [*fast_args, "--stop-after-steps", "2"]
    proc = run_script("vitdet-train", *args, "--batch-size", "1", "--output-dir", tmp_path / "two", env=gloo_env,
                      launcher=torchrun(2, "vis.vitdet.train", 29861))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 2" in proc.stdout + proc.stderr
    in_process(run, *args, "--output-dir", tmp_path / "one")
    r1, r2 = records(tmp_path / "one"), records(tmp_path / "two")
    assert [r["step"] for r in r1] == [r["step"] for r in r2] == [1, 2]
    # "loss" is averaged over the ranks (the other terms are logged from rank 0 alone)
    torch.testing.assert_close(torch.tensor([r["loss"] for r in r2]), torch.tensor([r["loss"] for r in r1]),
                               rtol=1e-4, atol=0)


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
