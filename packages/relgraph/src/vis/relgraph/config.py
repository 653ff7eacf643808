"""Options of the relgraph-* commands (plain data, no torch: --help and bad input answer at once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vis.core.config import RunConfig, TrainConfig, check

Model = Literal["mlp", "cnn", "resnet34", "resnet34sep", "resnet50"]
GRAPH_SETS = ("tiny", "n64-3942", "n64-449", "n64-52", "n16-2698", "n16-326", "n16-48")
"""Named graph sets: `tiny` (16 nodes, a dozen graphs binned from 48), and the paper's sets, sampled from the
1.8 M-graph sweep by the paper's (C, L) binning (vis.relgraph.graphs)."""


@dataclass
class RelGraphConfig(TrainConfig):
    """relgraph-train options: one model on one relational graph; every field is a --kebab-case flag."""

    model: Model = "mlp"
    """mlp (5 layers), cnn (8 layers), resnet34, resnet34sep, resnet50."""
    graph_nodes: int = 64
    """Nodes of the relational graph (64 in the paper; 16 for EfficientNet and the tiny recipe)."""
    k: float | None = None
    """Average degree of the WS-flex graph, in [2, graph_nodes]; omit for the complete graph (a dense
    network, the baseline)."""
    p: float = 0.0
    """Rewiring probability of the WS-flex graph, in [0, 1]."""
    graph_seed: int = 0
    width: int | None = None
    """Width of the relational layers; omit to match the dense model's multiply-adds (FLOPs matching)."""
    base_width: int | None = None
    """The dense baseline's width (default: the paper's, 512 for the MLP, 64 for the CNN and ResNets); the
    MLP's and CNN's dense stems have this width."""
    input_size: int = 32
    augment: bool = True
    """Random crop (pad 4) and flip at 32 px, random resized crop and flip above; off: none."""
    precise_bn_samples: int = 1024
    """Training samples over which BatchNorm statistics are recomputed before each evaluation (0: off)."""
    eval_batch_size: int = 256

    def validate(self) -> None:
        super().validate()
        n = self.graph_nodes
        check(n >= 2, "graph_nodes", "must be >= 2", n)
        check(self.k is None or 2 <= self.k <= n, "k", f"must be in [2, --graph-nodes = {n}]", self.k)
        check(0 <= self.p <= 1, "p", "must be in [0, 1]", self.p)
        check(self.width is None or self.width >= n, "width", f"must be >= --graph-nodes = {n}", self.width)
        check(self.base_width is None or self.base_width >= n, "base_width", f"must be >= --graph-nodes = {n}",
              self.base_width)
        check(self.input_size >= 8, "input_size", "must be >= 8", self.input_size)
        check(self.precise_bn_samples >= 0, "precise_bn_samples", "must be >= 0", self.precise_bn_samples)


@dataclass
class SweepConfig(RelGraphConfig):
    """relgraph-sweep options: every relgraph-train option (the graph options excepted, which the set gives),
    plus the graph set and the seeds. Each (graph, seed) trains in <output-dir>/runs/<graph>/seed<s>."""

    graphs: str = "tiny"
    """A graph table (CSV with columns n, density, p, seed[, C, L], or the paper's .npy tables) or a named
    set: tiny, n64-3942, n64-449, n64-52, n16-2698, n16-326, n16-48 (generated once, cached in
    <output-dir>/graphs.csv)."""
    seeds: int = 2
    """Training seeds per graph (0 .. seeds - 1)."""
    complete_graph: bool = True
    """Also train the complete graph (the dense baseline)."""
    workers: int = 1
    """Without --nodes: runs trained at once here (a process pool); with --nodes one SLURM array task each."""

    def validate(self) -> None:
        super().validate()
        check(self.graphs in GRAPH_SETS or Path(self.graphs).is_file(), "graphs",
              f"is neither a graph table file nor one of {', '.join(GRAPH_SETS)}", self.graphs)
        check(self.seeds >= 1, "seeds", "must be >= 1", self.seeds)
        check(self.workers >= 1, "workers", "must be >= 1", self.workers)


@dataclass
class GraphsConfig(RunConfig):
    """relgraph-graphs options: generate a named graph set and write its table (n, density, p, seed, C, L)."""

    graphs: str = "tiny"
    """tiny, n64-3942, n64-449, n64-52, n16-2698, n16-326, n16-48."""
    output: str = "graphs.csv"
    workers: int = 1
    """Processes computing C and L (the paper's 64-node sets measure 1.54 M graphs: about 13 ms each)."""

    def validate(self) -> None:
        super().validate()
        check(self.graphs in GRAPH_SETS, "graphs", f"must be one of {', '.join(GRAPH_SETS)}", self.graphs)
        check(self.workers >= 1, "workers", "must be >= 1", self.workers)


@dataclass
class AnalyzeConfig(RunConfig):
    """relgraph-analyze options: aggregate a sweep's results and draw the paper's figures."""

    results: str | None = None
    """The sweep's output folder (the one holding runs/)."""
    alpha: float = 0.05
    """Significance of the one-sided t-test that decides the sweet spot (graphs not worse than the best)."""
    c_band: tuple[float, float] = (0.4, 0.6)
    """Graphs with C in this band make the error-vs-L slice."""
    l_band: tuple[float, float] = (2.0, 2.5)
    """Graphs with L in this band make the error-vs-C slice."""
    bins: int = 15
    """Heat-map cells along C and along L (15 for the 52-graph set, 135 for the 3942-graph set)."""

    def validate(self) -> None:
        super().validate()
        check(self.results is not None, "results", "is required (the sweep's --output-dir)", self.results)
        runs = Path(str(self.results)) / "runs"
        check(runs.is_dir(), "results", "holds no runs/ folder (not a relgraph-sweep output)", self.results)
        check(0 < self.alpha < 1, "alpha", "must be in (0, 1)", self.alpha)
        check(self.bins >= 1, "bins", "must be >= 1", self.bins)
