"""The WS-flex generator, the graph measures and the graph sets.

Golden rows: n, k / n, p, seed and the measures C and L of graphs in the paper's published tables
(graph2nn's analysis/graphs_n64_{52,3942}.npy and the EfficientNet config), as listed in the reference
(section 5); the generator must rebuild them exactly, edge count included."""

import math

import networkx as nx
import numpy as np
import pytest

from vis.relgraph.graphs import GraphRow, bin_rows, measures, read_table, write_table, ws_flex
from vis.relgraph.sets import load_graphs

GOLDEN = [  # density = k / n, p, seed, edges (None: not listed), C, L
    (64, 0.12800088, 0.12806344, 4, 262, 0.44846117, 2.47916667),  # best MLP
    (64, 0.13878426, 0.24500845, 3, 284, 0.36728107, 2.28720238),  # best ResNet-34
    (64, 0.16851519, 0.34255769, 23, 345, 0.30277795, 2.04761905),  # best ResNet-34-sep
    (64, 0.31627091, 0.07338844, 8, 648, 0.63621871, 1.81398810),  # best ResNet-50
    (64, 0.17025145, 0.12098299, 13, 349, 0.50117114, 2.27876984),  # best 8-layer CNN
    (64, 0.36550103, 0.09883558, 6, None, 0.57425391, 1.64087302),  # 3942-set row 0
    (64, 0.12951467, 0.69909733, 23, None, 0.13802534, 2.16418651),  # 3942-set row 1
    (64, 0.40744798, 0.41665082, 0, None, 0.43109344, 1.58630952),  # 52-set row 0
    (16, 0.350341, 0.025772, 2, 45, 0.6128, 1.8917),  # best EfficientNet-B0 (C, L given to 4 places)
]


@pytest.mark.parametrize("n,density,p,seed,edges,c,ell", GOLDEN)
def test_generator_rebuilds_the_published_graphs(n, density, p, seed, edges, c, ell):
    g = ws_flex(n, density * n, p, seed)
    got_c, got_l = measures(g)
    places = 8 if n == 64 else 4
    assert (round(got_c, places), round(got_l, places)) == (c, ell)
    assert edges is None or g.number_of_edges() == edges
    assert g.number_of_edges() == round(density * n * n / 2) and nx.is_connected(g)


@pytest.mark.parametrize("n,k", [(16, 4), (16, 6), (64, 8), (64, 12)])
def test_ring_lattice_at_p_0_has_the_closed_form_measures(n, k):
    """k / 2 neighbours on each side: C = 3 (k - 2) / (4 (k - 1)); nodes at ring distance d are
    ceil(d / (k / 2)) hops apart."""
    c, ell = measures(ws_flex(n, k, 0.0, seed=7))
    assert c == pytest.approx(3 * (k - 2) / (4 * (k - 1)))
    assert ell == pytest.approx(sum(math.ceil(min(d, n - d) / (k / 2)) for d in range(1, n)) / (n - 1))


def test_complete_graph_and_edge_counts_and_degree_spread():
    full = GraphRow(16, 1.0, 0.0, 0)
    assert full.complete and full.with_measures().C == 1 and full.with_measures().L == 1
    assert full.adjacency().sum() == 16 * 16  # every pair and every self-loop
    for k in (2.0, 5.3, 9.75):
        g = ws_flex(32, k, 0.0, seed=0)  # ring lattice with the edges spread evenly
        degrees = [d for _, d in g.degree()]
        assert g.number_of_edges() == round(k * 32 / 2) and max(degrees) - min(degrees) <= 2
        rewired = ws_flex(32, k, 0.5, seed=1)
        assert rewired.number_of_edges() == g.number_of_edges() and nx.is_connected(rewired)
    assert sorted(ws_flex(64, 8, 0.3, 5).edges()) == sorted(ws_flex(64, 8, 0.3, 5).edges())  # deterministic
    assert sorted(ws_flex(64, 8, 0.3, 5).edges()) != sorted(ws_flex(64, 8, 0.3, 6).edges())


@pytest.mark.parametrize("k,p", [(1.5, 0.1), (17, 0.1), (4, -0.1), (4, 1.5)])
def test_out_of_range_degree_or_probability_is_refused(k, p):
    with pytest.raises(ValueError, match="must be in"):
        ws_flex(16, k, p, 0)


def test_binning_keeps_one_graph_per_cell_in_nested_subsets():
    rng = np.random.RandomState(0)
    rows = [GraphRow(64, 0.2, 0.1, i, float(c), float(ell)) for i, (c, ell) in
            enumerate(zip(rng.uniform(0, 1, 5000), rng.uniform(1, 4.5, 5000), strict=True))]
    every, mid, coarse = (bin_rows(rows, s) for s in ("all", "449", "52"))
    cell = lambda r: (min(int(r.C * 135), 134), min(int((r.L - 1) / 3.5 * 135), 134))
    assert len({cell(r) for r in every}) == len(every)  # one graph per occupied cell
    assert {r.seed for r in coarse} <= {r.seed for r in mid} <= {r.seed for r in every}  # nested
    assert all(cell(r)[0] % 9 == 5 and cell(r)[1] % 9 == 5 for r in coarse) and len(coarse) <= 15 * 15
    assert bin_rows(rows, "52") == coarse  # the shuffle is fixed (numpy seed 1)


def test_tables_round_trip_and_the_papers_npy_tables_load(tmp_path):
    rows = [GraphRow(64, d, p, s).with_measures() for _, d, p, s, *_ in GOLDEN[:3]]
    path = write_table(tmp_path / "g.csv", rows)
    assert path.read_text().splitlines()[0] == "n,density,p,seed,C,L"
    assert read_table(path) == rows
    npy = tmp_path / "graphs_n64_52.npy"  # graph2nn's layout: [n, k / n, p, seed, C, L] per row
    np.save(npy, np.array([[r.n, r.density, r.p, r.seed, r.C, r.L] for r in rows]))
    assert load_graphs(str(npy), tmp_path / "cache.csv") == rows
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected the columns"):
        read_table(tmp_path / "bad.csv")
