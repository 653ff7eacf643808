"""The tiny sweep through the real relgraph-sweep and relgraph-analyze commands (shortened to 2 epochs, in
this process): every (graph, seed) run writes its result, FLOPs-matched and well above chance; a rerun trains
nothing; a run is reproduced exactly by relgraph-train; the analysis writes its table, summary and figures;
and the array path submits the pending runs as one job array (submitit's local executor here, the real
SLURM in test_slurm.py)."""

import json

import pytest
from PIL import Image

from vis.core.testing import LOCAL_JOB, assert_bitwise_equal, final_weights
from vis.relgraph.cli import analyze, sweep, train
from vis.relgraph.graphs import GraphRow, complete_row, read_table, write_table

SHORT = ["--recipe", "tiny", "--epochs", "2"]


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("relgraph-tiny")
    sweep.run([*SHORT, "--output-dir", str(out)])
    return out


def results(out) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(out.glob("runs/*/seed*/result.json"))]


def test_tiny_sweep_trains_every_graph_and_seed_and_a_rerun_trains_nothing(tiny_sweep, in_process):
    graphs = read_table(tiny_sweep / "graphs.csv")
    runs = results(tiny_sweep)
    assert len(graphs) == 12 and len(runs) == 24 and any(g.complete for g in graphs)
    assert {(r["graph"]["key"], r["seed"]) for r in runs} == {(g.key, s) for g in graphs for s in (0, 1)}
    baseline = next(r for r in runs if r["graph"]["k"] == 15)["macs"]
    assert all(baseline <= r["macs"] <= 1.1 * baseline for r in runs)  # FLOPs matched from above
    assert max(r["top1_err"] for r in runs) < 50 and min(r["top1_err"] for r in runs) < 10  # chance: 90
    assert all(len(r["top1_err_per_epoch"]) == 2 for r in runs)
    stamps = {f: f.stat().st_mtime_ns for f in tiny_sweep.glob("runs/*/seed*/result.json")}
    result, printed = in_process(sweep.run, *SHORT, "--output-dir", tiny_sweep)
    assert "24 finished, 0 to run" in printed and result["ran"] == 0
    assert stamps == {f: f.stat().st_mtime_ns for f in tiny_sweep.glob("runs/*/seed*/result.json")}


def test_a_sweep_run_is_reproduced_exactly_by_relgraph_train(tiny_sweep, tmp_path, in_process):
    run = next(r for r in results(tiny_sweep) if r["graph"]["k"] < 15 and r["graph"]["p"] > 0 and r["seed"] == 1)
    g = run["graph"]
    again, _ = in_process(train.run, *SHORT, "--k", g["k"], "--p", g["p"], "--graph-seed", g["seed"], "--seed", 1,
                          "--output-dir", tmp_path)
    assert again["top1_err"] == run["top1_err"] and again["width"] == run["width"]
    folder = next(tiny_sweep.glob(f"runs/{g['key']}/seed1"))
    assert_bitwise_equal(final_weights(folder), final_weights(tmp_path))


def test_analysis_writes_the_table_summary_and_figures(tiny_sweep, in_process):
    summary, printed = in_process(analyze.run, "--recipe", "tiny", "--results", tiny_sweep)
    out = tiny_sweep / "analysis"
    assert summary["graphs"] == 12 and summary["runs"] == 24
    assert summary["best"]["top1_err_mean"] <= summary["baseline"]["top1_err_mean"]
    spot = summary["sweet_spot"]
    assert spot["C_min"] <= summary["best"]["C"] <= spot["C_max"] and spot["L_min"] <= summary["best"]["L"]
    assert len((out / "graphs.csv").read_text().splitlines()) == 13
    for name in ("heatmap.png", "slices.png"):
        with Image.open(out / name) as img:
            assert img.size[0] > 300 and img.size[1] > 300
    assert "complete graph" in printed and "best graph" in printed and "sweet spot" in printed


def test_nodes_submits_the_pending_runs_as_one_job_array(tmp_path, capsys):
    table = write_table(tmp_path / "two.csv", [complete_row(16), GraphRow(16, 0.5, 0.3, 0).with_measures()])
    out = tmp_path / "sweep"
    result = sweep.run([*SHORT, "--epochs", "1", "--seeds", "1", "--graphs", str(table), "--output-dir", str(out),
                        *LOCAL_JOB])
    printed = capsys.readouterr().out
    assert "submitted array job" in printed and "of 2 runs" in printed and result["ran"] == 2
    assert len(results(out)) == 2 and len(list((out / "slurm").glob("*_log.out"))) == 2
