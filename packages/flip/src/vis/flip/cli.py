"""The flip-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.flip.config import PretrainConfig, ZeroShotConfig
from vis.flip.recipes import PRETRAIN_RECIPES, ZEROSHOT_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.flip.pretrain:main", prog="flip-pretrain")
zeroshot = EntryPoint(ZeroShotConfig, ZEROSHOT_RECIPES, "vis.flip.zeroshot:main", prog="flip-zeroshot")
