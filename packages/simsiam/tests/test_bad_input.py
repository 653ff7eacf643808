"""Bad input: one line naming the problem, exit status 2, nothing written; corrupt images are skipped, named
and counted by training, the kNN monitor and the probe's evaluation, and past --max-skipped-fraction the run
stops with one line."""

import pytest
import torch

from vis.core.testing import CORRUPT_FILES, assert_corrupt_files_counted, corrupt_image_folder, fails_with_one_line
from vis.simsiam.cli import linprobe, pretrain


@pytest.mark.parametrize("args,words", [
    (["--recipe", "nope"], ["unknown recipe 'nope'"]),
    (["--dim", "0"], ["--dim", ">= 1"]),
    (["--crop-min-scale", "0"], ["--crop-min-scale"]),
    (["--blr", "-1"], ["--blr"]),
    (["--data", "cifar"], ["unknown dataset spec 'cifar'"]),
])
def test_bad_pretrain_values_fail_before_any_work(tmp_path, capsys, args, words):
    err = fails_with_one_line(capsys, pretrain.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_linprobe_refuses_a_missing_file_and_a_file_of_another_kind(tmp_path, capsys):
    err = fails_with_one_line(capsys, linprobe.run, "--finetune", tmp_path / "no.pth", "--output-dir", tmp_path / "a")
    assert "--finetune" in err
    mae = tmp_path / "mae_pretrain.pth"
    torch.save({"model": {"cls_token": torch.zeros(1, 1, 8), "blocks.0.norm1.weight": torch.ones(8)}}, mae)
    err = fails_with_one_line(capsys, linprobe.run, "--finetune", mae, "--output-dir", tmp_path / "b")
    assert "not a SimSiam checkpoint" in err and "mae_pretrain.pth" in err


# 93 training files (90 digits + 3 bad), so three steps of 31 read every one
SMALL = ["--epochs", "1", "--batch-size", "31", "--log-every", "1"]


def test_corrupt_files_are_skipped_named_and_counted_on_every_path(tmp_path, fast_args, in_process, capsys):
    root = corrupt_image_folder(tmp_path / "data")
    data = ["--data", f"imagefolder:{root}", "--max-skipped-fraction", "0.2"]
    result, out = in_process(pretrain.run, *fast_args, *SMALL, *data, "--output-dir", tmp_path / "pre")
    assert_corrupt_files_counted(out, tmp_path / "pre")
    assert result["knn_top1"] > 0.1

    small = ["--resnet-width", "4", "--input-size", "16"]  # the pre-trained backbone's size
    result, out = in_process(linprobe.run, "--recipe", "tiny", *small, *SMALL, *data, "--finetune",
                             tmp_path / "pre" / "backbone.pt", "--output-dir", tmp_path / "lp")
    assert "evaluation: skipped 3 unreadable of 33 samples" in out, out[-3000:]
    assert all(f"val/3/{name}: " in out for name in CORRUPT_FILES) and "top1" in result

    # the default bound (1%) ends the run with one line, exit 1, before any checkpoint
    with pytest.raises(SystemExit) as stop:
        pretrain.run([*map(str, fast_args), *SMALL, "--data", f"imagefolder:{root}", "--output-dir",
                      str(tmp_path / "strict")])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 1 and len(err.splitlines()) == 1, err
    assert "samples unreadable" in err and "--max-skipped-fraction 0.01" in err
    assert not (tmp_path / "strict" / "checkpoints" / "last.pt").exists()
