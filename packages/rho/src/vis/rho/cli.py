"""The rho-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.rho.config import ClassifyConfig, PretrainConfig
from vis.rho.recipes import FINETUNE_RECIPES, LINPROBE_RECIPES, PRETRAIN_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.rho.pretrain:main", prog="rho-pretrain")
linprobe = EntryPoint(ClassifyConfig, LINPROBE_RECIPES, "vis.rho.linprobe:main", prog="rho-linprobe")
finetune = EntryPoint(ClassifyConfig, FINETUNE_RECIPES, "vis.rho.finetune:main", prog="rho-finetune")
