"""Fast start: every console script the workspace registers answers `--help`, a misspelt option and a bad
value without importing torch, torchvision or timm, and rejects bad input with one line and exit status 2.

The scripts come from the installed distributions' entry points, so a new package is covered without
editing this test. Each case runs the real script in a fresh interpreter with `-X importtime`, which lists
every module the process imported on stderr (lines "import time: ..."), apart from what the script prints.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import pytest

HEAVY = ("torch", "torchvision", "timm")
BIN = Path(sys.executable).parent
CASES = {"help": ["--help"], "typo": ["--no-such-option", "1"], "bad value": ["--num-workers", "-1"]}


def vis_scripts() -> list[str]:
    names = {ep.name for dist in metadata.distributions() if (dist.metadata["Name"] or "").startswith("vis-")
             for ep in dist.entry_points if ep.group == "console_scripts"}
    return sorted(names)


SCRIPTS = vis_scripts()


def run_case(script: str, args: list[str]) -> tuple[int, str, str, set[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", str(BIN / script), *args], capture_output=True,
                          text=True, timeout=120)
    lines = proc.stderr.splitlines()
    imported = {ln.rsplit("|", 1)[-1].strip() for ln in lines if ln.startswith("import time:")}
    stderr = "\n".join(ln for ln in lines if not ln.startswith("import time:"))
    return proc.returncode, proc.stdout, stderr, {m.split(".")[0] for m in imported}


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], tuple[int, str, str, set[str]]]:
    jobs = [(s, c) for s in SCRIPTS for c in CASES]
    with ThreadPoolExecutor(4) as pool:  # subprocess-bound; four at a time keep two cores busy
        outs = list(pool.map(lambda job: run_case(job[0], CASES[job[1]]), jobs))
    return dict(zip(jobs, outs, strict=True))


def test_every_package_registers_its_scripts():
    packages = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "packages").iterdir()
                      if (p / "pyproject.toml").exists())
    for name in packages:
        assert any(s.startswith(name.replace("_", "").replace("-", "")) for s in SCRIPTS), (name, SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_bad_input_never_import_torch(results, script):
    code, out, err, imported = results[(script, "help")]
    assert code == 0 and "--recipe" in out and "recipes:" in out, err[-2000:]
    for case in ("typo", "bad value"):
        code, out, err, imported_bad = results[(script, case)]
        assert code == 2, (case, code, err[-2000:])
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), (case, err[-2000:])
        imported |= imported_bad
    assert "did you mean" not in results[(script, "bad value")][2]
    assert "--num-workers" in results[(script, "bad value")][2]
    assert not imported & set(HEAVY), f"{script} imported {sorted(imported & set(HEAVY))}"
