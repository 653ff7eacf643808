"""Corrupt files on every path that reads samples: each MAE entry point on an image folder whose train and val
splits hold a truncated JPEG, an empty file and a text file named .png. Training, the kNN monitor, the
reconstruction figure, fine-tune and probe evaluation, and mae-visualize skip them, name them and count
them; past --max-skipped-fraction the run stops with one line."""

import pytest

from vis.core.testing import CORRUPT_FILES, assert_corrupt_files_counted, corrupt_image_folder
from vis.mae.cli import finetune, linprobe, pretrain, visualize

BAD = CORRUPT_FILES
SMALL = ["--depth", "1", "--decoder-depth", "1", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "31",
         "--num-workers", "0", "--log-every", "1"]  # 93 training files: three steps read every one


@pytest.fixture(scope="module")
def corrupt_folder(tmp_path_factory):
    """digits as PNG files, 9 per class in train and 3 in val, plus the three bad files in each split."""
    return corrupt_image_folder(tmp_path_factory.mktemp("corrupt"))


def test_every_mae_entry_point_skips_names_and_counts_corrupt_files(corrupt_folder, tmp_path, in_process):
    data = ["--data", f"imagefolder:{corrupt_folder}", "--max-skipped-fraction", "0.2"]
    result, out = in_process(pretrain.run, *SMALL, *data, "--num-figures", "4", "--output-dir", tmp_path / "pre")
    assert_corrupt_files_counted(out, tmp_path / "pre")
    assert result["knn_top1"] > 0.1 and (tmp_path / "pre" / "figures" / "reconstructions.png").is_file()
    ckpt = tmp_path / "pre" / "checkpoints" / "last.pt"

    for entry, name in ((finetune, "ft"), (linprobe, "lp")):
        result, out = in_process(entry.run, "--recipe", "tiny", "--depth", "1", "--epochs", "1", "--warmup-epochs",
                                 "0", "--batch-size", "16", "--finetune", ckpt, *data, "--output-dir", tmp_path / name)
        assert "evaluation: skipped 3 unreadable of 33 samples" in out, out[-3000:]
        assert "top1" in result and all(f"val/3/{name}: " in out for name in BAD)

    good = next((corrupt_folder / "val" / "0").glob("*.png"))
    bad = corrupt_folder / "val" / "3" / BAD[2]
    result, out = in_process(visualize.run, "--recipe", "tiny", "--checkpoint", ckpt, "--images", good, bad,
                             "--output-dir", tmp_path / "vis")
    assert "mae-visualize: skipped 1 unreadable of 2 samples" in out and BAD[2] in out
    assert (tmp_path / "vis" / "visualize-seed0.png").is_file()
    result, out = in_process(visualize.run, "--recipe", "tiny", "--checkpoint", ckpt, *data[:2],
                             "--num-samples", "33", "--output-dir", tmp_path / "vis-data")
    assert "mae-visualize: skipped 3 unreadable of 33 samples" in out


def test_too_many_corrupt_files_stop_the_run_with_one_line(corrupt_folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # the default bound, 1%
        pretrain.run([*SMALL, "--data", f"imagefolder:{corrupt_folder}", "--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 1 and len(err.splitlines()) == 1, err
    assert "samples unreadable" in err and "in training" in err and "--max-skipped-fraction 0.01" in err
