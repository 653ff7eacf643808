"""The relgraph-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.relgraph.config import AnalyzeConfig, GraphsConfig, RelGraphConfig, SweepConfig
from vis.relgraph.recipes import ANALYZE_RECIPES, GRAPHS_RECIPES, SWEEP_RECIPES, TRAIN_RECIPES

train = EntryPoint(RelGraphConfig, TRAIN_RECIPES, "vis.relgraph.train:main", prog="relgraph-train")
# the sweep runs here and submits its runs itself (one SLURM array) when given --nodes
sweep = EntryPoint(SweepConfig, SWEEP_RECIPES, "vis.relgraph.sweep:main", prog="relgraph-sweep", local=True)
graphs = EntryPoint(GraphsConfig, GRAPHS_RECIPES, "vis.relgraph.sets:main", prog="relgraph-graphs")
analyze = EntryPoint(AnalyzeConfig, ANALYZE_RECIPES, "vis.relgraph.analyze:main", prog="relgraph-analyze")
