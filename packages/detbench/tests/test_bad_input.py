"""Bad input: one line naming the problem, exit status 2, nothing written; --help lists the recipes and,
like bad values, does not import torch."""

import subprocess
import sys

import pytest

from vis.core.testing import fails_with_one_line
from vis.detbench.cli import evaluate, train


@pytest.mark.parametrize("args,words", [
    (["--recipe", "nope"], ["unknown recipe 'nope'", "tiny-mae"]),
    (["--init", "moco:/x.pt"], ["unknown initialisation 'moco:/x.pt'", "mocov3:FILE"]),
    (["--init", "mae"], ["unknown initialisation 'mae'"]),
    (["--init", "random:/x.pt"], ["unknown initialisation"]),
    (["--init", "mae:/no/such.pth"], ["does not exist", "/no/such.pth"]),
    (["--recipe", "tiny-mae"], ["does not exist", "output/mae-tiny/checkpoints/last.pt"]),
    (["--depth", "6"], ["--depth", "multiple of 4"]),
    (["--norm", "ln"], ["--norm"]),
    (["--data", "voc:/x"], ["unknown detection data", "coco:ROOT"]),
])
def test_bad_values_fail_before_any_work(capsys, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)  # the tiny-mae preset names a file relative to the working folder
    err = fails_with_one_line(capsys, train.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_beit_needs_layer_scale_and_wrong_kind_is_one_line(capsys, tmp_path, shapes_root):
    from .layouts import beit_file, mae_file

    beit_file(tmp_path / "beit.pt")
    mae_file(tmp_path / "mae.pt")
    data = f"coco:{shapes_root}"
    err = fails_with_one_line(capsys, train.run, "--data", data, "--init", f"beit:{tmp_path / 'beit.pt'}",
                              "--output-dir", tmp_path / "o")
    assert "--layer-scale is needed for BEiT weights" in err
    err = fails_with_one_line(capsys, train.run, "--data", data, "--init", f"beit:{tmp_path / 'mae.pt'}",
                              "--layer-scale", "0.1", "--output-dir", tmp_path / "o")
    assert "not a beit checkpoint (its keys look like mae)" in err and not (tmp_path / "o").exists()
    err = fails_with_one_line(capsys, train.run, "--data", data, "--num-classes", "5", "--output-dir", tmp_path / "o")
    assert "3 categories" in err and not (tmp_path / "o").exists()
    err = fails_with_one_line(capsys, evaluate.run, "--data", data, "--checkpoint", tmp_path / "mae.pt")
    assert "not a detector checkpoint" in err


def test_help_lists_recipes_and_nothing_heavy_is_imported():
    code = ("import sys, io, contextlib\nfrom vis.detbench.cli import train\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    try:\n        train.run(['--help'])\n    except SystemExit:\n"
            "        pass\ntry:\n    train.run(['--init', 'moco:x'])\nexcept SystemExit:\n    pass\n"
            "print('mask-rcnn-vit-l-mae-100ep' in buf.getvalue() and 'tiny-beit' in buf.getvalue())\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'timm', 'pycocotools') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-2:] == ["True", "[]"], out.stdout[-2000:] + out.stderr[-2000:]
