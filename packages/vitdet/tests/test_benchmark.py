"""benchmarks/vitdet_cost.py stays runnable: the tiny recipe's trunk (window-only, global, all-global) and
detector, one step each on CPU (its numbers are not tests)."""

from pathlib import Path

from vis.core.testing import run_benchmark

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "vitdet_cost.py"


def test_vitdet_cost_benchmark_compares_global_blocks_and_times_the_detector(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, SCRIPT, "--tiny", "--img", "128", "--window", "8", "--steps", "1",
                        "--detector")
    assert "window only" in out and "all global" in out and "batch 2: train" in out
