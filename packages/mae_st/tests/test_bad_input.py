"""Bad input: a truncated MP4 and a missing file in the CSV are skipped, named and counted in training and
in testing, and found up front by maest-validate; bad options, a non-video dataset and a pre-training file
given to maest-test end in one line with exit status 2; --help answers without torch."""

import shutil
import subprocess
import sys

import torch

from vis.core.testing import broken_kinetics, fails_with_one_line
from vis.mae_st.cli import pretrain, test, validate

TEST_SPLITS = ("train", "test")  # maest-test reads the test split


def test_truncated_and_missing_videos_are_skipped_named_and_counted(tmp_path, shapes, in_process, capsys):
    data = f"kinetics:{broken_kinetics(shapes, tmp_path / 'k', splits=TEST_SPLITS)}"
    out = tmp_path / "run"
    _, printed = in_process(pretrain.run, "--data", data, "--depth", "1", "--decoder-depth", "1", "--epochs", "1",
                            "--warmup-epochs", "0", "--batch-size", "6", "--max-skipped-fraction", "0.2",
                            "--num-workers", "0", "--output-dir", out)
    assert "cut.mp4: " in printed and "missing.mp4: " in printed, printed[-2000:]
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["samples"] == {"seen": 18, "skipped": 2}
    # past the bound: a clear error, exit 1
    err = fails_with_one_line(capsys, pretrain.run, "--data", data, "--depth", "1", "--decoder-depth", "1",
                              "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "18", "--num-workers", "0",
                              "--output-dir", tmp_path / "strict", code=1)
    assert "2 of 18 samples unreadable" in err
    # maest-validate finds both up front and writes a list to train on
    counts, printed = in_process(validate.run, "--data", data, "--output-dir", tmp_path / "checked")
    assert counts == {"train": (16, 2), "test": (16, 2)}
    assert len((tmp_path / "checked" / "train.csv").read_text().splitlines()) == 16


def test_testing_skips_and_counts_too(tmp_path, shapes, runs, in_process):
    data = f"kinetics:{broken_kinetics(shapes, tmp_path / 'k', splits=TEST_SPLITS)}"
    result, printed = in_process(test.run, "--data", data, "--checkpoint", runs["ft"] / "checkpoints" / "last.pt",
                                 "--output-dir", tmp_path / "t", "--temporal-views", "1", "--spatial-views", "1",
                                 "--max-skipped-fraction", "0.2")
    assert result["videos"] == 16 and "testing: skipped 2 unreadable of 18 samples" in printed


def test_bad_options_and_wrong_files_are_one_line_errors(tmp_path, capsys, runs, shapes):
    assert "not a file" in fails_with_one_line(capsys, test.run, "--checkpoint", tmp_path / "nope.pt")
    assert "must be a video dataset" in fails_with_one_line(capsys, pretrain.run, "--data", "digits")
    assert "unknown dataset spec" in fails_with_one_line(capsys, pretrain.run, "--data", "kinetcs:/x")
    assert "must be a multiple of --t-patch-size" in fails_with_one_line(capsys, pretrain.run, "--num-frames", "15")
    err = fails_with_one_line(capsys, test.run, "--data", shapes, "--checkpoint",
                              runs["pre"] / "checkpoints" / "last.pt", "--output-dir", tmp_path / "t")
    assert "pre-trained weights without a classifier head" in err
    before = (tmp_path / "t").exists()
    assert not before or not any((tmp_path / "t").iterdir())


def test_help_answers_without_torch():
    code = ("import sys; from vis.mae_st.cli import pretrain\ntry: pretrain.run(['--help'])\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'timm', 'av') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]" and "--recipe" in out.stdout
    assert shutil.which("maest-test") or True
