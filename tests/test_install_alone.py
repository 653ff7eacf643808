"""Install one method alone: the vis-core and vis-mae wheels, built without the workspace, in a fresh venv,
pull no other vis package and none of the heavy optional dependencies of other methods."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OTHER_HEAVY = {"av", "pycocotools", "faster-coco-eval", "webdataset", "open-clip-torch", "torch-fidelity",
               "diffusers", "torchcodec", "decord"}


def sh(*cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
    return proc


@pytest.mark.slow
def test_vis_mae_installs_and_runs_alone(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    dist = tmp_path / "dist"
    for pkg in ("vis-core", "vis-mae"):
        sh(uv, "build", "--package", pkg, "--no-sources", "--wheel", "-o", dist, cwd=ROOT)
    # third-party pins of vis-mae's dependency tree only, as locked: installable offline from the uv cache
    lock = tmp_path / "pylock.toml"
    sh(uv, "export", "--package", "vis-mae", "--no-emit-workspace", "--format", "pylock.toml", "-o", lock,
       cwd=ROOT)
    venv = tmp_path / "venv"
    py = venv / "bin" / "python"
    sh(uv, "venv", venv, "--python", sys.executable)
    sh(uv, "pip", "install", "--offline", "--python", py, "-r", lock)
    sh(uv, "pip", "install", "--offline", "--python", py, *sorted(dist.glob("*.whl")))
    sh(uv, "pip", "check", "--python", py)

    freeze = sh(uv, "pip", "freeze", "--python", py).stdout.splitlines()
    names = {re.split(r"==| @ ", line)[0].strip().lower() for line in freeze if line.strip()}
    assert {n for n in names if n.startswith("vis-")} == {"vis-core", "vis-mae"}
    assert not names & OTHER_HEAVY

    assert "--recipe" in sh(venv / "bin" / "mae-pretrain", "--help").stdout
    # one interpreter: a training step through the installed entry point, then what the process imported
    out = tmp_path / "run"
    code = ("import sys, vis.mae.finetune, vis.mae.visualize, vis.mae.linprobe; from vis.mae.cli import pretrain; "
            f"pretrain.run(['--epochs', '1', '--warmup-epochs', '0', '--stop-after-steps', '1', '--knn-every', '0', "
            f"'--output-dir', {str(out)!r}]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'av', 'pycocotools', 'webdataset', "
            "'open_clip', 'torch_fidelity'} or (m.startswith('vis.') and m.split('.')[1] not in {'core', 'mae'})))")
    assert sh(py, "-c", code, cwd=tmp_path).stdout.strip().splitlines()[-1] == "[]"
    assert (out / "checkpoints" / "last.pt").is_file()
