"""benchmarks/rcg_step.py stays runnable: tiny sizes, one repeat (its numbers are not tests)."""

from pathlib import Path

from vis.core.testing import run_benchmark

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "rcg_step.py"


def test_rcg_step_benchmark_times_both_stages(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, SCRIPT, "--batch", "4", "--steps", "2", "--repeats", "1")
    assert "rdm train step" in out and "pixel sample (2 DDIM)" in out and "RDM share of sampling time" in out
