"""Bad input on every mocov3 entry point: one line naming the problem, exit status 2, nothing written or
overwritten; corrupt images are skipped, named and counted by training, the kNN monitor and the probe's
evaluation, and past --max-skipped-fraction the run stops with one line."""

import pytest
import torch

from vis.core.testing import CORRUPT_FILES, assert_corrupt_files_counted, corrupt_image_folder, fails_with_one_line
from vis.mocov3.cli import export, linprobe, pretrain


@pytest.mark.parametrize("args,words", [
    (["--recipe", "nope"], ["unknown recipe 'nope'", "vit-base-300ep"]),
    (["--temperature", "0"], ["--temperature", "> 0"]),
    (["--moco-m", "1.5"], ["--moco-m", "[0, 1]"]),
    (["--patch-size", "5"], ["--input-size", "multiple of --patch-size 5"]),
    (["--optimizer", "sgd"], ["--optimizer"]),
    (["--data", "imagefolder:/no/such/folder"], ["data folder not found", "/no/such/folder"]),
])
def test_bad_pretrain_values_fail_before_any_work(tmp_path, capsys, args, words):
    err = fails_with_one_line(capsys, pretrain.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_export_keeps_an_existing_output_and_refuses_files_of_another_kind(tmp_path, capsys):
    existing = tmp_path / "backbone.pt"
    existing.write_bytes(b"someone's file")
    mae = tmp_path / "mae_pretrain_vit_base.pth"
    torch.save({"model": {"cls_token": torch.zeros(1, 1, 8), "blocks.0.norm1.weight": torch.ones(8)}}, mae)
    err = fails_with_one_line(capsys, export.run, "--checkpoint", mae, "--output", existing)
    assert "--output" in err and "--force" in err and existing.read_bytes() == b"someone's file"
    err = fails_with_one_line(capsys, export.run, "--checkpoint", mae, "--output", tmp_path / "new.pt")
    assert "not a MoCo v3 checkpoint" in err and "mae_pretrain_vit_base.pth" in err
    assert not (tmp_path / "new.pt").exists()
    err = fails_with_one_line(capsys, export.run, "--checkpoint", tmp_path / "none.pth", "--output", tmp_path / "x")
    assert "--checkpoint" in err and "not a file" in err


# 93 training files (90 digits + 3 bad), so three steps of 31 read every one
SMALL = ["--epochs", "1", "--warmup-epochs", "0", "--batch-size", "31", "--log-every", "1"]


def test_corrupt_files_are_skipped_named_and_counted_on_every_path(tmp_path, fast_args, in_process, capsys):
    root = corrupt_image_folder(tmp_path / "data")
    data = ["--data", f"imagefolder:{root}", "--max-skipped-fraction", "0.2"]
    result, out = in_process(pretrain.run, *fast_args, *SMALL, *data, "--output-dir", tmp_path / "pre")
    assert_corrupt_files_counted(out, tmp_path / "pre")
    assert result["knn_top1"] > 0.1
    ckpt = tmp_path / "pre" / "checkpoints" / "last.pt"

    small_vit = fast_args[:8]  # the probe's ViT must be the pre-trained one
    result, out = in_process(linprobe.run, "--recipe", "tiny", *small_vit, *SMALL, *data, "--finetune", ckpt,
                             "--output-dir", tmp_path / "lp")
    assert "evaluation: skipped 3 unreadable of 33 samples" in out, out[-3000:]
    assert all(f"val/3/{name}: " in out for name in CORRUPT_FILES) and "top1" in result

    # the default bound (1%) ends the run with one line, exit 1, before any checkpoint
    err = fails_with_one_line(capsys, pretrain.run, *fast_args, *SMALL, "--data", f"imagefolder:{root}",
                              "--output-dir", tmp_path / "strict", code=1)
    assert "samples unreadable" in err and "--max-skipped-fraction 0.01" in err
    assert not (tmp_path / "strict" / "checkpoints" / "last.pt").exists()
