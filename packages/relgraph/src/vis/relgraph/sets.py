"""relgraph-graphs: generate a named set of relational graphs and write its table (n, density, p, seed, C, L).

The paper's sets come from a sweep of 1.8 M WS-flex graphs on 64 nodes (k in linspace(2, sqrt(62), 200)^2,
p in linspace(0, 1, 300)^2, 30 seeds, k / n >= 0.125): the graphs are shuffled (numpy seed 1), binned by
clustering C on [0, 1] and path length L on [1, 4.5] into 135 x 135 cells, and the first graph of every
occupied cell is kept (3942 graphs); every 9th cell in both directions gives the coarser nested sets (449,
52). The 1.54 M graphs left after the k / n filter take about 13 ms each to build and measure (5.6
core-hours on the 2-core CI machine): --workers spreads them over processes. `tiny` is 48 graphs on 16
nodes (k 2 to 15, p 0 to 1, 2 seeds) binned on an 8 x 8 grid: 12 graphs.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from vis.core.errors import UserError
from vis.relgraph.config import GraphsConfig
from vis.relgraph.graphs import GraphRow, bin_rows, paper_sweep, read_table, sweep_rows, write_table

log = logging.getLogger("vis")

TINY = dict(n=16, degrees=(2, 4, 6, 8, 12, 15), ps=(0.0, 0.1, 0.3, 1.0), seeds=2, bins=8)
SUBSETS = {"3942": "all", "449": "449", "52": "52", "2698": "all", "326": "449", "48": "52"}
"""Set name suffix -> cells kept (see graphs.GRIDS): n64-3942 / n16-2698 every cell, -449 / -326 every
(2, 5, 8) mod 9 cell, -52 / -48 every 5 mod 9 cell."""


def _measured(row: GraphRow) -> GraphRow:
    return row.with_measures()


def measure_all(rows: list[GraphRow], workers: int = 1) -> list[GraphRow]:
    """Every row with its C and L, over `workers` processes."""
    if workers <= 1:
        return [r.with_measures() for r in rows]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_measured, rows, chunksize=max(1, len(rows) // (workers * 16))))


def named_set(name: str, workers: int = 1) -> list[GraphRow]:
    """The rows of a named set (GRAPH_SETS), with their measures."""
    if name == "tiny":
        t = TINY
        rows = sweep_rows(t["n"], np.array(t["degrees"], float), np.array(t["ps"]), t["seeds"])
        return bin_rows(measure_all(rows, workers), bins=t["bins"])
    n, size = name.removeprefix("n").split("-")
    return bin_rows(measure_all(paper_sweep(int(n)), workers), SUBSETS[size])


def load_graphs(graphs: str, cache: Path, workers: int = 1) -> list[GraphRow]:
    """The graphs a --graphs value names: a table file (CSV, or the paper's .npy with the columns n, k / n,
    p, seed, C, L), or a named set, generated once and kept in `cache`."""
    if Path(graphs).is_file():
        try:
            if graphs.endswith(".npy"):
                return [GraphRow(int(r[0]), float(r[1]), float(r[2]), int(r[3]), float(r[4]), float(r[5]))
                        for r in np.load(graphs)]
            return read_table(graphs)
        except (OSError, ValueError, KeyError, IndexError) as e:
            raise UserError("not a graph table", graphs, f"{e}; write one with relgraph-graphs") from None
    if cache.is_file():
        return read_table(cache)
    rows = named_set(graphs, workers)
    write_table(cache, rows)
    return rows


def main(cfg: GraphsConfig) -> dict[str, Any]:
    from vis.core.logger import setup_console

    setup_console(0)
    rows = named_set(cfg.graphs, cfg.workers)
    path = write_table(cfg.output, rows)
    log.info(f"{cfg.graphs}: {len(rows)} graphs, C {min(r.C for r in rows):.3f} to {max(r.C for r in rows):.3f}, "
             f"L {min(r.L for r in rows):.3f} to {max(r.L for r in rows):.3f} -> {path}")
    return {"output": str(path), "graphs": len(rows)}


if __name__ == "__main__":  # python -m vis.relgraph.sets
    from vis.relgraph import cli

    cli.graphs.cli()
