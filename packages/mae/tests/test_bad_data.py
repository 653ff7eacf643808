"""Corrupt files on every path that reads samples: each MAE entry point on an image folder whose train and val
splits hold a truncated JPEG, an empty file and a text file named .png. Training, the kNN monitor, the
reconstruction figure, fine-tune and probe evaluation, and mae-visualize skip them, name them and count
them; past --max-skipped-fraction the run stops with one line."""

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from vis.mae.cli import finetune, linprobe, pretrain, visualize

BAD = ("truncated.jpg", "empty.jpg", "notes.png")
SMALL = ["--depth", "1", "--decoder-depth", "1", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "31",
         "--num-workers", "0", "--log-every", "1"]  # 93 training files: three steps read every one


def _write_split(root, images, labels) -> None:
    for k, (img, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.uint8(img * 255 / 16)).resize((32, 32)).convert("RGB").save(folder / f"{k}.png")
    folder = root / "3"
    Image.fromarray(np.uint8(images[0] * 255 / 16)).resize((32, 32)).save(folder / "whole.jpg")
    whole = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / BAD[0]).write_bytes(whole[: len(whole) // 2])
    (folder / BAD[1]).write_bytes(b"")
    (folder / BAD[2]).write_text("these are my notes, not an image\n")


@pytest.fixture(scope="module")
def corrupt_folder(tmp_path_factory):
    """digits as PNG files, 9 per class in train and 3 in val, plus the three bad files in each split."""
    d = load_digits()
    root = tmp_path_factory.mktemp("corrupt")
    train = [i for c in range(10) for i in np.flatnonzero(d.target == c)[:9]]
    val = [i for c in range(10) for i in np.flatnonzero(d.target == c)[9:12]]
    _write_split(root / "train", d.images[train], d.target[train])
    _write_split(root / "val", d.images[val], d.target[val])
    return root


def test_every_mae_entry_point_skips_names_and_counts_corrupt_files(corrupt_folder, tmp_path, in_process):
    data = ["--data", f"imagefolder:{corrupt_folder}", "--max-skipped-fraction", "0.2"]
    result, out = in_process(pretrain.run, *SMALL, *data, "--num-figures", "4", "--output-dir", tmp_path / "pre")
    for name in BAD:  # named by training (train split) and the kNN monitor (train and val splits)
        assert out.count(f"/{name}: ") >= 3, (name, out[-3000:])
    assert "the kNN monitor: skipped 6 unreadable of 126 samples" in out  # 3 of 93 in train, 3 of 33 in val
    assert result["knn_top1"] > 0.1 and (tmp_path / "pre" / "figures" / "reconstructions.png").is_file()
    ckpt = tmp_path / "pre" / "checkpoints" / "last.pt"
    assert torch.load(ckpt, weights_only=True)["samples"] == {"seen": 93, "skipped": 3}

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
