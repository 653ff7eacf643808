"""Bad input: a truncated MP4 and a missing file in the CSV are skipped, named and counted in pre-training and
in the linear probe's training and multi-view evaluation; bad options, a non-video dataset and a file of the
wrong kind end in one line with exit status 2 and nothing written; --help answers without torch."""

import subprocess
import sys

import torch

from vis.core.testing import broken_kinetics, fails_with_one_line
from vis.rho.cli import linprobe, pretrain

SMALL = ["--epochs", "1", "--warmup-epochs", "0", "--num-workers", "0", "--dim", "16", "--mlp-dim", "32"]


def test_unreadable_videos_are_skipped_named_and_counted_in_pretraining_and_probing(tmp_path, shapes, in_process):
    data = f"kinetics:{broken_kinetics(shapes, tmp_path / 'k')}"
    out = tmp_path / "pre"
    _, printed = in_process(pretrain.run, "--data", data, *SMALL, "--batch-size", "6", "--max-skipped-fraction",
                            "0.2", "--output-dir", out)
    assert "cut.mp4: " in printed and "missing.mp4: " in printed, printed[-2000:]
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=True)["samples"] == {"seen": 18, "skipped": 2}
    result, printed = in_process(linprobe.run, "--data", data, "--finetune", out / "checkpoints" / "last.pt",
                                 "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "6", "--num-workers", "0",
                                 "--max-skipped-fraction", "0.2", "--output-dir", tmp_path / "probe")
    assert "evaluation: skipped 2 unreadable of 18 samples" in printed and result["videos"] == 16


def test_too_many_unreadable_videos_stop_the_run(tmp_path, shapes, capsys):
    data = f"kinetics:{broken_kinetics(shapes, tmp_path / 'k')}"
    err = fails_with_one_line(capsys, pretrain.run, "--data", data, *SMALL, "--batch-size", "18",
                              "--output-dir", tmp_path / "strict", code=1)
    assert "2 of 18 samples unreadable" in err


def test_bad_options_and_wrong_files_are_one_line_errors(tmp_path, capsys):
    assert "--rho must be in 1..8" in fails_with_one_line(capsys, pretrain.run, "--rho", "0")
    assert "must be a video dataset" in fails_with_one_line(capsys, pretrain.run, "--data", "digits")
    assert "unknown dataset spec" in fails_with_one_line(capsys, pretrain.run, "--data", "kinetcs:/x")
    err = fails_with_one_line(capsys, pretrain.run, "--method", "moco", "--queue-len", "8")
    assert "--queue-len must hold one step's keys (32 per process)" in err
    assert "not a file" in fails_with_one_line(capsys, linprobe.run, "--finetune", tmp_path / "nope.pt")
    torch.save({"model": {"conv1.weight": torch.zeros(8, 3, 7, 7)}}, tmp_path / "image.pt")
    out = tmp_path / "probe"
    err = fails_with_one_line(capsys, linprobe.run, "--finetune", tmp_path / "image.pt", "--output-dir", out)
    assert "not a video backbone checkpoint" in err and not out.exists()


def test_help_answers_without_torch():
    code = ("import sys; from vis.rho.cli import pretrain\ntry: pretrain.run(['--help'])\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'timm', 'av') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "--recipe" in out.stdout and "k400-rho4" in out.stdout and "--method" in out.stdout
