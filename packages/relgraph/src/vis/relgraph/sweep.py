"""relgraph-sweep: train one model on every graph of a set, with several seeds (the paper's sweeps: 3942 graphs
x 5 seeds for the CIFAR-10 MLP, 52 graphs x 3 seeds for the ImageNet ResNets).

Each (graph, seed) is a relgraph-train run in <output-dir>/runs/<graph>/seed<s>/ with its own checkpoints;
a run whose result.json exists is finished and never rerun, so the same command resumes a sweep (and a
preempted run resumes from its last.pt). With --nodes the pending runs go to SLURM as one job array (one
task per run, each with the launch options given); without, they run here one after another, or --workers
at once in a process pool. relgraph-analyze then reads <output-dir>.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from vis.core.errors import UserError
from vis.relgraph.config import RelGraphConfig, SweepConfig
from vis.relgraph.graphs import GraphRow, complete_row

log = logging.getLogger("vis")


def run_configs(cfg: SweepConfig, rows: list[GraphRow]) -> list[RelGraphConfig]:
    """One relgraph-train configuration per (graph, seed): the sweep's training options, the graph's, the seed
    and its own output folder."""
    base = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(RelGraphConfig)}
    runs = []
    for row in rows:
        graph = {"graph_nodes": row.n, "k": row.density * row.n, "p": row.p, "graph_seed": row.seed}
        for seed in range(cfg.seeds):
            out = Path(cfg.output_dir) / "runs" / row.key / f"seed{seed}"
            runs.append(RelGraphConfig(**{**base, **graph, "seed": seed, "output_dir": str(out),
                                          "launch": dataclasses.replace(cfg.launch)}))
    return runs


def _train(cfg: RelGraphConfig) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)  # a pool of runs shares the cores: one thread each
    from vis.relgraph.train import main

    return main(cfg)


def main(cfg: SweepConfig) -> dict[str, Any]:
    from vis.core.logger import setup_console
    from vis.relgraph.sets import load_graphs

    setup_console(0)
    out = Path(cfg.output_dir)
    rows = load_graphs(cfg.graphs, out / "graphs.csv", cfg.workers)
    if not rows:
        raise UserError("the graph set is empty", cfg.graphs, "give a table with at least one graph")
    if cfg.complete_graph and not any(r.complete for r in rows):
        rows = [complete_row(rows[0].n), *rows]
    runs = run_configs(cfg, rows)
    pending = [r for r in runs if not (Path(r.output_dir) / "result.json").is_file()]
    log.info(f"{len(rows)} graphs x {cfg.seeds} seeds = {len(runs)} runs of {cfg.model}: "
             f"{len(runs) - len(pending)} finished, {len(pending)} to run")
    if not pending:
        return {"runs": len(runs), "ran": 0}
    if cfg.launch.submits:
        from vis.core.launch import submit_array, wait_all
        from vis.relgraph.train import main as train

        jobs = submit_array(pending, train, out / "slurm")
        if not (cfg.launch.wait or cfg.launch.cluster in ("local", "debug")):
            log.info("rerun the same command to submit what has not finished; relgraph-analyze --results "
                     f"{out} once all have")
            return {"runs": len(runs), "submitted": len(jobs), "job": jobs[0].job_id.split("_")[0]}
        wait_all(jobs)
    elif cfg.workers > 1:
        with ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(_train, pending))
    else:
        from vis.relgraph.train import main as train

        for run in pending:
            train(run)
    log.info(f"{len(pending)} runs done; relgraph-analyze --results {out}")
    return {"runs": len(runs), "ran": len(pending)}


if __name__ == "__main__":  # python -m vis.relgraph.sweep
    from vis.relgraph import cli

    cli.sweep.cli()
