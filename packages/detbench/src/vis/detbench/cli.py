"""The detbench-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.detbench.config import EvalBenchConfig, TrainBenchConfig
from vis.detbench.recipes import EVAL_RECIPES, TRAIN_RECIPES

train = EntryPoint(TrainBenchConfig, TRAIN_RECIPES, "vis.detbench.train:main", prog="detbench-train")
evaluate = EntryPoint(EvalBenchConfig, EVAL_RECIPES, "vis.detbench.evaluate:main", prog="detbench-eval")
