"""The vitdet-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.vitdet.config import EvalDetConfig, TrainDetConfig
from vis.vitdet.recipes import EVAL_RECIPES, TRAIN_RECIPES

train = EntryPoint(TrainDetConfig, TRAIN_RECIPES, "vis.vitdet.train:main", prog="vitdet-train")
evaluate = EntryPoint(EvalDetConfig, EVAL_RECIPES, "vis.vitdet.evaluate:main", prog="vitdet-eval")
