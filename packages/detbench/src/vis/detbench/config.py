"""Options of detbench-train and detbench-eval (plain data: no torch import, so --help and bad input are fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from vis.core.config import ViTOptions, check
from vis.core.det_config import DetectionEvalConfig, DetectionTrainConfig, RCNNOptions
from vis.core.errors import UserError

INIT_KINDS = ("random", "supervised", "mocov3", "beit", "mae")
INIT_HELP = ("random | supervised:FILE (a vis ViT classifier, e.g. mae-finetune, or DeiT) | mocov3:FILE "
             "(mocov3-export backbone or a MoCo v3 pre-training file) | beit:FILE (BEiT's released layout) | "
             "mae:FILE (vis mae-pretrain or official mae_pretrain_vit_*.pth)")


def parse_init(spec: str) -> tuple[str, str | None]:
    """`random` or `KIND:FILE` -> (kind, file); one-line error for an unknown kind or a missing file."""
    kind, _, path = spec.partition(":")
    if kind not in INIT_KINDS or (kind == "random") != (not path):
        raise UserError(f"unknown initialisation '{spec}'", "--init", f"use {INIT_HELP}")
    if path and not Path(path).is_file():
        raise UserError("the initialisation file does not exist", path, "pass --init KIND:FILE with a checkpoint")
    return kind, path or None


@dataclass
class BenchDetOptions(RCNNOptions):
    """The detector: ViT trunk with windowed and 4 global blocks (the taps), the resolution modules, FPN and
    Mask R-CNN heads."""

    rel_pos_bias: bool = True
    """BEiT-style relative position bias: one table shared by the window blocks, one by the global blocks."""
    layer_scale: float | None = None
    """Layer scale on both residual branches, starting at this value (BEiT weights need it; overwritten)."""
    norm: Literal["bn", "gn"] = "bn"
    """Norm of the FPN and heads: bn (synchronised across processes: the paper's SyncBN) or gn (32 groups)."""

    def validate(self, vit: ViTOptions) -> None:
        super().validate(vit)
        check(vit.depth % 4 == 0, "depth", "must be a multiple of 4 (taps after each quarter)", vit.depth)
        check(vit.patch_size % 4 == 0, "patch_size", "must be a multiple of 4 (the stride-p/4 level)", vit.patch_size)
        check(self.layer_scale is None or self.layer_scale > 0, "layer_scale", "must be > 0", self.layer_scale)


@dataclass
class TrainBenchConfig(DetectionTrainConfig):
    """detbench-train options; every field is a --kebab-case flag."""

    det: Annotated[BenchDetOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BenchDetOptions)
    init: str = "random"
    """The trunk's initialisation: random | supervised:FILE (a vis ViT classifier, e.g. mae-finetune, or
    DeiT) | mocov3:FILE (mocov3-export backbone or a MoCo v3 pre-training file) | beit:FILE (BEiT's released
    layout) | mae:FILE (vis mae-pretrain or official mae_pretrain_vit_*.pth)."""
    layer_decay: float = 1.0
    """Layer-wise lr decay (1 = off: the paper does not describe one)."""
    warmup_epochs: float = 0.25

    def validate(self) -> None:
        super().validate()
        kind, _ = parse_init(self.init)
        check(kind != "beit" or self.det.layer_scale is not None, "layer_scale",
              "is needed for BEiT weights (they carry gamma_1 / gamma_2)", self.det.layer_scale)


@dataclass
class EvalBenchConfig(DetectionEvalConfig):
    """detbench-eval options: COCO box / mask AP of a checkpoint on a split."""

    det: Annotated[BenchDetOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=BenchDetOptions)
