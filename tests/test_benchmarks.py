"""The benchmark scripts stay runnable (exercised on CPU with tiny models; their numbers are not tests)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_mae_benchmark_runs_on_cpu_with_a_tiny_model():
    proc = subprocess.run([sys.executable, ROOT / "benchmarks" / "gpu_mae.py", "--tiny", "--device", "cpu",
                           "--steps", "1", "--batches", "4", "8", "--no-compile"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "img/s" in proc.stdout and "eager" in proc.stdout and "largest costs" in proc.stdout
