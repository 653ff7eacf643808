"""Suite-wide: at the end of every run, the wall time spent per package (core, each method package,
cross-package), against the budget each keeps on the 2-core machine (docs/testing.md)."""

from __future__ import annotations

from collections import defaultdict

BUDGET_S = 240  # core, each method package, and the cross-package + SLURM tests: 4 minutes each

_spent: dict[str, float] = defaultdict(float)


def _package(nodeid: str) -> str:
    parts = nodeid.split("/")
    if parts[0] == "packages" and len(parts) > 2:
        return f"packages/{parts[1]}"
    return "tests (cross-package)" if parts[0] == "tests" else parts[0]


def pytest_runtest_logreport(report) -> None:
    _spent[_package(report.nodeid)] += report.duration  # setup (shared fixtures included), call, teardown


def pytest_terminal_summary(terminalreporter) -> None:
    if not _spent:
        return
    tr = terminalreporter
    tr.section("wall time per package")
    for name, seconds in sorted(_spent.items()):
        flag = "" if seconds <= BUDGET_S else f"  OVER the {BUDGET_S} s budget"
        tr.write_line(f"{name:28s} {seconds:7.1f} s{flag}")
    tr.write_line(f"{'total':28s} {sum(_spent.values()):7.1f} s")
