"""Pre-train -> fine-tune / linear probe / visualize through the real entry points on digits."""

import json

import numpy as np
import pytest
import skimage.data
from PIL import Image

from vis.mae.cli import finetune, linprobe, visualize


def records(out):
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def best_top1(out) -> float:
    return max(r["top1"] for r in records(out) if "top1" in r)


@pytest.mark.slow
def test_finetuning_mae_beats_random_init_with_the_same_budget(tiny_pretrained, tmp_path, in_process):
    pre, _ = tiny_pretrained
    ckpt = pre / "checkpoints" / "last.pt"
    budget = ["--epochs", "5", "--warmup-epochs", "1"]  # a quarter of the recipe, to keep the suite short
    _, mae_out = in_process(finetune.run, "--recipe", "tiny", *budget, "--finetune", ckpt, "--output-dir",
                            tmp_path / "mae")
    in_process(finetune.run, "--recipe", "tiny", *budget, "--output-dir", tmp_path / "random")
    a, b = best_top1(tmp_path / "mae"), best_top1(tmp_path / "random")
    print(f"fine-tune top-1 on digits: from MAE {a:.2f}%, from random init {b:.2f}%")
    assert a > b + 5
    assert "initialised here: fc_norm.bias, fc_norm.weight, head.bias, head.weight" in mae_out
    assert (tmp_path / "mae" / "checkpoints" / "best.pt").is_file()
    assert all("top5" in r for r in records(tmp_path / "mae") if "top1" in r)


@pytest.mark.slow
def test_linear_probe_learns_and_leaves_the_backbone_unchanged(tiny_pretrained, tmp_path, in_process):
    pre, _ = tiny_pretrained
    result, out = in_process(linprobe.run, "--recipe", "tiny", "--finetune", pre / "checkpoints" / "last.pt",
                             "--epochs", "8", "--warmup-epochs", "1", "--output-dir", tmp_path / "lp")  # 40%
    acc = best_top1(tmp_path / "lp")
    print(f"linear-probe top-1 on digits: {acc:.2f}%")
    assert acc > 25  # chance is 10%
    assert result["backbone_unchanged"] and "backbone check: all" in out and "unchanged" in out


def _patches(img: np.ndarray, row: int, col: int, cell: int, pad: int = 2) -> np.ndarray:
    y, x = pad + row * (cell + pad), pad + col * (cell + pad)
    return img[y : y + cell, x : x + cell]


def test_visualize_a_photo_pastes_visible_patches_back_unchanged(tiny_pretrained, tmp_path, in_process):
    pre, _ = tiny_pretrained
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(photo)
    in_process(visualize.run, "--recipe", "tiny", "--checkpoint", pre / "checkpoints" / "last.pt",
               "--images", photo, "--mask-seed", "3", "--output-dir", tmp_path / "vis")
    grid = np.asarray(Image.open(tmp_path / "vis" / "visualize-seed3.png").convert("RGB")).astype(int)
    cell = 128  # 32 px images upscaled 4x
    original, masked, recon, pasted = (_patches(grid, 0, c, cell) for c in range(4))
    p = 4 * 4  # a 4 px patch, upscaled
    visible = 0
    for i in range(0, cell, p):
        for j in range(0, cell, p):
            shown = np.array_equal(masked[i : i + p, j : j + p], original[i : i + p, j : j + p])
            if shown:  # visible patch: pasted back exactly
                visible += 1
                assert np.array_equal(pasted[i : i + p, j : j + p], original[i : i + p, j : j + p])
            else:
                assert not masked[i : i + p, j : j + p].any()  # removed patches are black
    assert visible == 16  # 25% of 64 patches
    assert not np.array_equal(recon, original)
    # same seed, same masks
    in_process(visualize.run, "--recipe", "tiny", "--checkpoint", pre / "checkpoints" / "last.pt",
               "--images", photo, "--mask-seed", "3", "--output-dir", tmp_path / "vis2")
    first, second = (tmp_path / d / "visualize-seed3.png" for d in ("vis", "vis2"))
    assert first.read_bytes() == second.read_bytes()
