"""relgraph-analyze: read a sweep's results and draw the paper's figures (You, Leskovec, He and Xie, 2020,
section 5).

Per graph: the mean and standard deviation of the final top-1 error over seeds. The sweet spot is every graph
not significantly worse than the best one (one-sided two-sample t-test at --alpha), drawn as its bounding box
in (C, L). Writes to <results>/analysis/: heatmap.png (mean error over binned C and L, the best graph as a
red x, the sweet spot dashed), slices.png (error against L for graphs with C in --c-band, against C for L
in --l-band, each with a quadratic fit), graphs.csv (one row per graph) and summary.json (complete-graph
baseline against the best graph, the sweet-spot box). A result file that cannot be read is named, counted
and left out.
"""

from __future__ import annotations

import csv
import json
import logging
import statistics
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vis.core.data.skips import SkipCount
from vis.core.errors import UserError
from vis.relgraph.config import AnalyzeConfig

log = logging.getLogger("vis")


@dataclass
class GraphResult:
    """One graph's runs: its table row fields and the final top-1 error of each seed."""

    key: str
    graph: dict[str, Any]
    errors: list[float]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.errors)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.errors)

    @property
    def complete(self) -> bool:
        return self.graph["k"] >= self.graph["n"] - 1


def collect(results: Path, max_skipped_fraction: float) -> list[GraphResult]:
    """Every graph with at least one finished run under results/runs, grouped by graph folder."""
    files = sorted(Path(results).glob("runs/*/seed*/result.json"))
    by_graph: dict[str, GraphResult] = {}
    bad = []
    for f in files:
        try:
            r = json.loads(f.read_text())
            graph, error = r["graph"], float(r["top1_err"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            bad.append(f"{f}: {type(e).__name__}: {e}")
            continue
        by_graph.setdefault(f.parent.parent.name, GraphResult(f.parent.parent.name, graph, [])).errors.append(error)
    skips = SkipCount(max_skipped_fraction, str(results), "relgraph-analyze (result files)")
    skips.add(len(files) - len(bad), bad)
    skips.report()
    if not by_graph:
        raise UserError("no finished run to analyse", str(results), "run relgraph-sweep into it first")
    return list(by_graph.values())


def sweet_spot(results: list[GraphResult], alpha: float) -> tuple[GraphResult, list[GraphResult]]:
    """(best graph, graphs not significantly worse than it): one-sided Welch t-test, worse when the mean is
    higher and p / 2 < alpha; a graph with a single run is compared by its mean against the best's spread."""
    from scipy.stats import ttest_ind

    best = min(results, key=lambda g: g.mean)
    members = []
    for g in results:
        if g is best:
            members.append(g)
            continue
        if len(g.errors) > 1 and len(best.errors) > 1:
            with warnings.catch_warnings():  # seeds with equal errors: scipy warns of precision loss
                warnings.simplefilter("ignore", RuntimeWarning)
                p = ttest_ind(g.errors, best.errors, equal_var=False).pvalue
            worse = g.mean > best.mean and (np.isfinite(p) and p / 2 < alpha or not np.isfinite(p))
        else:
            worse = g.mean > best.mean + best.std
        if not worse:
            members.append(g)
    return best, members


def box(graphs: list[GraphResult]) -> dict[str, float]:
    c = [g.graph["C"] for g in graphs]
    ell = [g.graph["L"] for g in graphs]
    return {"C_min": min(c), "C_max": max(c), "L_min": min(ell), "L_max": max(ell)}


def figures(results: list[GraphResult], best: GraphResult, spot: dict[str, float], cfg: AnalyzeConfig,
            out: Path) -> list[Path]:
    """heatmap.png and slices.png (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    c = np.array([g.graph["C"] for g in results])
    ell = np.array([g.graph["L"] for g in results])
    err = np.array([g.mean for g in results])
    bins = cfg.bins
    c_edges = np.linspace(0, 1, bins + 1)
    l_edges = np.linspace(1, max(4.5, ell.max()), bins + 1)
    sums, _, _ = np.histogram2d(c, ell, bins=(c_edges, l_edges), weights=err)
    counts, _, _ = np.histogram2d(c, ell, bins=(c_edges, l_edges))
    grid = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    mesh = ax.pcolormesh(c_edges, l_edges, grid.T, cmap="Blues_r", shading="flat")
    fig.colorbar(mesh, ax=ax, label="top-1 error (%)")
    ax.plot(best.graph["C"], best.graph["L"], "x", color="red", markersize=10, mew=2, label="best graph")
    ax.add_patch(Rectangle((spot["C_min"], spot["L_min"]), spot["C_max"] - spot["C_min"],
                           spot["L_max"] - spot["L_min"], fill=False, ls="--", ec="red", lw=1.5, label="sweet spot"))
    ax.set(xlabel="clustering coefficient C", ylabel="average path length L", xlim=(0, 1))
    ax.legend(loc="upper right", fontsize=8)
    paths = [out / "heatmap.png"]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, (x, band, other, name) in zip(axes, ((ell, cfg.c_band, c, "L"), (c, cfg.l_band, ell, "C")), strict=True):
        sel = (other >= band[0]) & (other <= band[1])
        ax.scatter(x[sel], err[sel], s=14)
        if sel.sum() >= 3:
            coef = np.polyfit(x[sel], err[sel], 2)
            xs = np.linspace(x[sel].min(), x[sel].max(), 100)
            ax.plot(xs, np.polyval(coef, xs), color="red", lw=1.5, label="quadratic fit")
            ax.legend(fontsize=8)
        other_name = "C" if name == "L" else "L"
        ax.set(xlabel=name, ylabel="top-1 error (%)",
               title=f"{other_name} in [{band[0]:g}, {band[1]:g}]: {int(sel.sum())} graphs")
    paths.append(out / "slices.png")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)
    return paths


def main(cfg: AnalyzeConfig) -> dict[str, Any]:
    from vis.core.logger import setup_console

    setup_console(0)
    results = collect(Path(str(cfg.results)), cfg.max_skipped_fraction)
    best, members = sweet_spot(results, cfg.alpha)
    spot = box(members)
    baseline = next((g for g in results if g.complete), None)
    out = Path(str(cfg.results)) / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "graphs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "n", "k", "p", "seed", "C", "L", "runs", "top1_err_mean", "top1_err_std", "sweet_spot"])
        for g in sorted(results, key=lambda g: g.mean):
            w.writerow([g.key, g.graph["n"], g.graph["k"], g.graph["p"], g.graph["seed"], g.graph["C"], g.graph["L"],
                        len(g.errors), g.mean, g.std, g in members])
    describe = lambda g: None if g is None else {"key": g.key, "C": g.graph["C"], "L": g.graph["L"],
                                                 "top1_err_mean": g.mean, "top1_err_std": g.std, "runs": len(g.errors)}
    summary = {"graphs": len(results), "runs": sum(len(g.errors) for g in results), "baseline": describe(baseline),
               "best": describe(best), "sweet_spot": {**spot, "graphs": len(members)}, "alpha": cfg.alpha}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    paths = figures(results, best, spot, cfg, out)
    line = lambda name, g: f"{name:<15}{g.mean:6.2f} +- {g.std:4.2f}   C {g.graph['C']:.3f}  L {g.graph['L']:.3f}"
    log.info(f"{summary['graphs']} graphs, {summary['runs']} runs; final top-1 error (%), mean +- std over seeds:")
    if baseline is not None:
        log.info(line("complete graph", baseline))
    log.info(line("best graph", best))
    log.info(f"sweet spot ({len(members)} graphs not significantly worse than the best, alpha {cfg.alpha}): "
             f"C {spot['C_min']:.3f} to {spot['C_max']:.3f}, L {spot['L_min']:.3f} to {spot['L_max']:.3f}")
    log.info(f"wrote {', '.join(str(p) for p in [*paths, out / 'graphs.csv', out / 'summary.json'])}")
    return summary


if __name__ == "__main__":  # python -m vis.relgraph.analyze
    from vis.relgraph import cli

    cli.analyze.cli()
