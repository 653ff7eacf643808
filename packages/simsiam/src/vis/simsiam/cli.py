"""The simsiam-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.core.eval.config import LinearProbeConfig
from vis.simsiam.config import PretrainConfig
from vis.simsiam.recipes import LINPROBE_RECIPES, PRETRAIN_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.simsiam.pretrain:main", prog="simsiam-pretrain")
linprobe = EntryPoint(LinearProbeConfig, LINPROBE_RECIPES, "vis.simsiam.linprobe:main", prog="simsiam-linprobe")
