"""Suite-wide: the fixtures every package's tests share (in_process, gloo_env), and at the end of every run the
wall time spent per package (core, each method package, the SLURM tests, cross-package) against the budget
each keeps on the 2-core machine (docs/testing.md)."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from vis.core.testing import GLOO_ENV

BUDGET_S = 240  # core, each method package, and the cross-package + SLURM tests together: 4 minutes each

_spent: dict[str, float] = defaultdict(float)
_slurm: set[str] = set()
_start = time.perf_counter()


@pytest.fixture
def gloo_env(monkeypatch) -> dict[str, str]:
    """Loopback gloo and one thread per process, here and in jobs submitted from here (sbatch exports them)."""
    for key, value in GLOO_ENV.items():
        monkeypatch.setenv(key, value)
    return dict(GLOO_ENV)


@pytest.fixture
def in_process(capsys):
    """Run an entry point's `run(args)` in this process (its whole code path after the interpreter's start-up,
    which costs ~8 s here): returns (what main returned, captured stdout)."""
    capsys.readouterr()

    def call(run, *args):
        result = run([str(a) for a in args])
        return result, capsys.readouterr().out
    return call


def _package(nodeid: str) -> str:
    if nodeid in _slurm:
        return "slurm"
    parts = nodeid.split("/")
    if parts[0] == "packages" and len(parts) > 2:
        return f"packages/{parts[1]}"
    return "tests (cross-package)" if parts[0] == "tests" else parts[0]


def pytest_collection_modifyitems(items) -> None:
    _slurm.update(item.nodeid for item in items if item.get_closest_marker("slurm"))


def pytest_runtest_logreport(report) -> None:
    _spent[_package(report.nodeid)] += report.duration  # setup (shared fixtures included), call, teardown


def pytest_terminal_summary(terminalreporter) -> None:
    if not _spent:
        return
    tr = terminalreporter
    tr.section("wall time per package")
    for name, seconds in sorted(_spent.items()):
        flag = "" if seconds <= BUDGET_S or name in ("slurm", "tests (cross-package)") else \
            f"  OVER the {BUDGET_S} s budget"
        tr.write_line(f"{name:28s} {seconds:7.1f} s{flag}")
    shared = _spent.get("slurm", 0.0) + _spent.get("tests (cross-package)", 0.0)
    if shared > BUDGET_S:
        tr.write_line(f"{'':28s} SLURM + cross-package {shared:.1f} s: OVER the {BUDGET_S} s budget")
    total = time.perf_counter() - _start
    tr.write_line(f"{'start-up and collection':28s} {total - sum(_spent.values()):7.1f} s")
    tr.write_line(f"{'total':28s} {total:7.1f} s")
