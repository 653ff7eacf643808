"""Bad input: one line naming the problem, exit status 2, nothing written; --help and bad values without
importing torch; vis-vitdet installs alone."""

import subprocess
import sys
from pathlib import Path

import pytest

from vis.core.testing import trains_alone
from vis.vitdet.cli import evaluate, train


def one_line_error(capsys, run, *args) -> str:
    with pytest.raises(SystemExit) as stop:
        run([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize("args,words", [
    (["--recipe", "nope"], ["unknown recipe 'nope'"]),
    (["--data", "voc:/x"], ["unknown detection data", "coco:ROOT"]),
    (["--data", "coco:/no/such/root"], ["no annotations folder"]),
    (["--global-blocks", "1", "9", "--depth", "4"], ["--global-blocks"]),
    (["--anchor-sizes", "8", "16"], ["--anchor-sizes"]),
    (["--init", "/no/such.pth"], ["--init", "does not exist"]),
    (["--img-size", "100"], ["--img-size", "multiple of --patch-size"]),
])
def test_bad_values_fail_before_any_work(capsys, tmp_path, args, words):
    err = one_line_error(capsys, train.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_wrong_class_count_and_wrong_checkpoint(capsys, tmp_path, shapes_root):
    data = f"coco:{shapes_root}"
    err = one_line_error(capsys, train.run, "--data", data, "--num-classes", "5", "--output-dir", tmp_path / "o")
    assert "3 categories" in err and "--num-classes 3" in err and not (tmp_path / "o").exists()
    import torch

    torch.save({"model": {"w": torch.zeros(1)}}, tmp_path / "other.pt")
    err = one_line_error(capsys, evaluate.run, "--data", data, "--checkpoint", tmp_path / "other.pt")
    assert "not a detector checkpoint" in err


def test_help_and_bad_input_do_not_import_torch():
    code = ("import sys\nfrom vis.vitdet.cli import train\ntry:\n    train.run(['--data', 'voc:x'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('torch', 'torchvision', 'timm', 'pycocotools') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]


@pytest.mark.slow
def test_vis_vitdet_installs_and_runs_alone(tmp_path, shapes_root):
    trains_alone("vis-vitdet", Path(__file__).resolve().parents[3], tmp_path,
                 ["--data", f"coco:{shapes_root}", "--stop-after-steps", "1", "--batch-size", "2", "--num-workers", "0",
                  "--rois-per-image", "16"], ["vis.vitdet.evaluate"], entry="train", own=frozenset({"pycocotools"}))
