"""The mae-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.core.eval.config import FinetuneConfig, LinearProbeConfig
from vis.mae.config import PretrainConfig, VisualizeConfig
from vis.mae.recipes import FINETUNE_RECIPES, LINPROBE_RECIPES, PRETRAIN_RECIPES, VISUALIZE_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.mae.pretrain:main", prog="mae-pretrain")
finetune = EntryPoint(FinetuneConfig, FINETUNE_RECIPES, "vis.mae.finetune:main", prog="mae-finetune")
linprobe = EntryPoint(LinearProbeConfig, LINPROBE_RECIPES, "vis.mae.linprobe:main", prog="mae-linprobe")
visualize = EntryPoint(VisualizeConfig, VISUALIZE_RECIPES, "vis.mae.visualize:main", prog="mae-visualize")
