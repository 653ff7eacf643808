"""The rcg-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.rcg.config import EvalConfig, PixelConfig, RdmConfig, SampleConfig
from vis.rcg.recipes import EVAL_RECIPES, PIXEL_RECIPES, RDM_RECIPES, SAMPLE_RECIPES

train_rdm = EntryPoint(RdmConfig, RDM_RECIPES, "vis.rcg.train_rdm:main", prog="rcg-train-rdm")
train_pixel = EntryPoint(PixelConfig, PIXEL_RECIPES, "vis.rcg.train_pixel:main", prog="rcg-train-pixel")
sample = EntryPoint(SampleConfig, SAMPLE_RECIPES, "vis.rcg.sample:main", prog="rcg-sample")
evaluate = EntryPoint(EvalConfig, EVAL_RECIPES, "vis.rcg.evaluate:main", prog="rcg-eval")
