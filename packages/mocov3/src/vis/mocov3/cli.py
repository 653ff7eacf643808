"""The mocov3-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.core.eval.config import LinearProbeConfig
from vis.mocov3.config import ExportConfig, PretrainConfig
from vis.mocov3.recipes import EXPORT_RECIPES, LINPROBE_RECIPES, PRETRAIN_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.mocov3.pretrain:main", prog="mocov3-pretrain")
linprobe = EntryPoint(LinearProbeConfig, LINPROBE_RECIPES, "vis.mocov3.linprobe:main", prog="mocov3-linprobe")
export = EntryPoint(ExportConfig, EXPORT_RECIPES, "vis.mocov3.export:main", prog="mocov3-export")
