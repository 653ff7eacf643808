"""Relational graphs: the WS-flex generator, the measures C and L, the sampled graph sets, and graph tables.

The generator follows the paper's code step by step (it reproduces the published graph tables exactly): a
ring lattice with e = round(k n / 2) edges spread evenly over the nodes, rewired with Python's
`random.Random(seed)` (networkx's py_random_state semantics), regenerated from the same random stream until
connected. Only numpy, networkx and the standard library: the commands that read graph tables start fast.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

COLUMNS = ("n", "density", "p", "seed", "C", "L")
"""A graph table's columns; density = k / n (the original tables call it SPARSITY; it is a density)."""


def ws_flex(n: int, k: float, p: float, seed: int, tries: int = 100) -> nx.Graph:
    """A connected WS-flex graph on nodes 0..n-1 with average degree k (real, 2 <= k <= n) and rewiring
    probability p."""
    if not 2 <= k <= n:
        raise ValueError(f"average degree k must be in [2, n = {n}], got {k}")
    if not 0 <= p <= 1:
        raise ValueError(f"rewiring probability p must be in [0, 1], got {p}")
    rng = random.Random(seed)
    edges = int(round(k * n / 2))
    forward = [edges // n + (i < edges % n) for i in range(n)]  # the first (e mod n) nodes get one more
    targets = [[(i + j) % n for j in range(1, forward[i] + 1)] for i in range(n)]
    for _ in range(tries):  # the same random stream on every try
        g = nx.Graph()
        for i in range(n):
            g.add_edges_from((i, v) for v in targets[i])
        nodes = list(g.nodes())
        for i in range(n):
            for v in targets[i]:
                if rng.random() < p:
                    w = rng.choice(nodes)
                    while w == i or g.has_edge(i, w):  # no self-loop or multi-edge: redraw
                        w = rng.choice(nodes)
                        if g.degree(i) >= n - 1:
                            break  # i is connected to every node: leave this edge
                    else:
                        g.remove_edge(i, v)
                        g.add_edge(i, w)
        if nx.is_connected(g):
            return g
    raise ValueError(f"no connected WS-flex graph in {tries} tries (n {n}, k {k}, p {p}, seed {seed})")


def measures(g: nx.Graph) -> tuple[float, float]:
    """(C, L): average clustering coefficient and average shortest path length, without self-loops."""
    g = nx.Graph(g)
    g.remove_edges_from(nx.selfloop_edges(g))
    return nx.average_clustering(g), nx.average_shortest_path_length(g)


@dataclass(frozen=True)
class GraphRow:
    """One row of a graph table: how to build the graph (n, density = k / n, p, seed) and its measures."""

    n: int
    density: float
    p: float
    seed: int
    C: float = float("nan")
    L: float = float("nan")

    @property
    def complete(self) -> bool:
        return self.density * self.n >= self.n - 1

    def graph(self) -> nx.Graph:
        """The graph: the complete graph for density >= (n - 1) / n, else WS-flex."""
        if self.complete:
            return nx.complete_graph(self.n)
        return ws_flex(self.n, self.density * self.n, self.p, self.seed)

    def adjacency(self) -> np.ndarray:
        """n x n 0/1 adjacency with self-loops (each node also keeps its own message)."""
        a = nx.to_numpy_array(self.graph(), nodelist=range(self.n))
        return np.minimum(a + np.eye(self.n), 1.0)

    def with_measures(self) -> GraphRow:
        c, l_ = (1.0, 1.0) if self.complete else measures(self.graph())
        return GraphRow(self.n, self.density, self.p, self.seed, c, l_)

    @property
    def key(self) -> str:
        """A short stable name (for output folders): n, density, p, seed and a hash of the edge set."""
        edges = sorted(self.graph().edges())
        digest = hashlib.sha1(repr(edges).encode()).hexdigest()[:8]
        return f"n{self.n}-d{self.density:.4f}-p{self.p:.4f}-s{self.seed}-{digest}"


def complete_row(n: int) -> GraphRow:
    """The complete graph on n nodes (k = n - 1): the dense baseline layer."""
    return GraphRow(n, (n - 1) / n, 0.0, 0, 1.0, 1.0)


def write_table(path: str | Path, rows: list[GraphRow]) -> Path:
    """A CSV with the columns n, density, p, seed, C, L (atomically written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows([r.n, repr(r.density), repr(r.p), r.seed, repr(r.C), repr(r.L)] for r in rows)
    tmp.replace(path)
    return path


def read_table(path: str | Path) -> list[GraphRow]:
    """The rows of a graph table (ValueError naming the problem when it is not one)."""
    with Path(path).open(newline="") as f:
        reader = csv.DictReader(f)
        names = {"sparsity" if c.lower() == "sparsity" else c for c in (reader.fieldnames or [])}
        if not {"n", "p", "seed"} <= names or not names & {"density", "sparsity"}:
            raise ValueError(f"expected the columns {', '.join(COLUMNS)}, got {', '.join(reader.fieldnames or [])}")
        return [GraphRow(int(r["n"]), float(r.get("density") or r["sparsity"]), float(r["p"]), int(r["seed"]),
                         float(r.get("C") or "nan"), float(r.get("L") or "nan")) for r in reader]


def sweep_rows(n: int, degrees: np.ndarray, ps: np.ndarray, seeds: int, min_density: float = 0.0) -> list[GraphRow]:
    """Every (k, p, seed) of a generation sweep with k / n >= min_density, measures not yet computed."""
    return [GraphRow(n, float(k) / n, float(p), s) for k in degrees for p in ps for s in range(seeds)
            if k / n >= min_density]


def paper_sweep(n: int = 64) -> list[GraphRow]:
    """The paper's generation sweep: k in linspace(sqrt(4), sqrt(n - 2), 200)^2, p in linspace(0, 1, 300)^2,
    30 seeds, k / n >= 0.125 (1.8 M graphs before the filter for n = 64)."""
    degrees = np.linspace(np.sqrt(4), np.sqrt(n - 2), 200) ** 2
    return sweep_rows(n, degrees, np.linspace(0, 1, 300) ** 2, 30, min_density=0.125)


GRIDS = {"all": (1, (0,)), "449": (9, (2, 5, 8)), "52": (9, (5,))}
"""Nested subsets of the 135 x 135 (C, L) cells: every cell, cells whose two indices are both in the residues
modulo 9 (2, 5, 8: 45 x 45 cells; 5: 15 x 15)."""


def bin_rows(rows: list[GraphRow], subset: str = "all", bins: int = 135, c_range=(0.0, 1.0),
             l_range=(1.0, 4.5), shuffle_seed: int = 1) -> list[GraphRow]:
    """The paper's selection: shuffle (numpy seed 1), bin C and L into bins x bins cells, keep the first
    graph of every occupied cell (of the `subset` of cells: "all", "449" or "52"), in cell order."""
    order = np.random.RandomState(shuffle_seed).permutation(len(rows))
    mod, residues = GRIDS[subset]
    kept: dict[tuple[int, int], GraphRow] = {}
    for i in order:
        r = rows[i]
        ci = min(int((r.C - c_range[0]) / (c_range[1] - c_range[0]) * bins), bins - 1)
        li = min(int((r.L - l_range[0]) / (l_range[1] - l_range[0]) * bins), bins - 1)
        if ci % mod in residues and li % mod in residues:
            kept.setdefault((ci, li), r)
    return [kept[c] for c in sorted(kept)]
