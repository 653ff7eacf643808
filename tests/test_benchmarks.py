"""The benchmark scripts stay runnable (exercised on CPU with tiny models, in this process; their numbers
are not tests)."""

from pathlib import Path

from vis.core.testing import run_benchmark as run_script_benchmark

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_benchmark(monkeypatch, capsys, name: str, *args: str) -> str:
    return run_script_benchmark(monkeypatch, capsys, BENCHMARKS / name, *args)


def test_gpu_mae_benchmark_runs_on_cpu_with_a_tiny_model(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "gpu_mae.py", "--tiny", "--device", "cpu", "--steps", "1",
                        "--batches", "4", "8", "--no-compile")
    assert "img/s" in out and "eager" in out and "largest costs" in out


def test_engine_overhead_benchmark_compares_equal_work(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "engine_overhead.py", "--epochs", "1", "--rounds", "1")
    assert "Trainer / bare step time" in out and "same final weights: True" in out


def test_contrastive_step_benchmark_reports_momentum_and_collective_shares(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "contrastive_step.py", "--tiny", "--nproc", "1", "--steps", "1")
    assert "MoCo v3 (tiny)" in out and "SimSiam (tiny)" in out and "collectives" in out


def test_relgraph_step_benchmark_compares_the_matched_relational_mlp_with_the_dense_one(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "relgraph_step.py", "--models", "mlp", "--steps", "1")
    assert "mlp" in out and "512 / 1522" in out and "relational / dense" in out


def test_flip_speedup_benchmark_counts_the_masked_compute(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "flip_speedup.py", "--sizes", "b16", "--timed", "--no-tiny")
    assert "b16     0.50" in out and "0.528x" in out and "17.56" in out


def test_maest_speedup_benchmark_runs_a_tiny_model(monkeypatch, capsys):
    out = run_benchmark(monkeypatch, capsys, "maest_speedup.py", "--sizes", "tiny", "--device", "cpu")
    assert "FLOP ratio" in out and "tiny" in out


def test_video_decode_benchmark_reports_repeated_sampling(monkeypatch, capsys, tmp_path):
    import numpy as np

    from vis.core.data.moving_shapes import write_mp4

    for i in range(2):
        write_mp4(tmp_path / f"{i}.mp4", np.full((32, 32, 32, 3), 40 * i, np.uint8))
    (tmp_path / "train.csv").write_text("0.mp4 0\n1.mp4 1\n")
    out = run_benchmark(monkeypatch, capsys, "video_decode.py", "--data", f"kinetics:{tmp_path}", "--videos", "2",
                        "--repeats", "1", "2")
    assert "pyav" in out and "clips/s" in out

