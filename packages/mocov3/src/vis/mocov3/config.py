"""Configuration of MoCo v3 pre-training and export (vis-core configs plus the model and loss options).

Plain data, no torch: `--help` and bad input answer at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from vis.core.config import Arch, ResNetOptions, RunConfig, SelfSupervisedConfig, ViTOptions, check

# MoCo v3's ViT-S has 12 heads (DeiT's has 6); the ConvStem variants drop one block (depth 11) to keep the
# compute of the patch-projection models.
OFFICIAL_VITS: dict[str, tuple[ViTOptions, bool]] = {
    "vit_small": (ViTOptions(16, 384, 12, 12), False),
    "vit_base": (ViTOptions(16, 768, 12, 12), False),
    "vit_conv_small": (ViTOptions(16, 384, 11, 12), True),
    "vit_conv_base": (ViTOptions(16, 768, 11, 12), True),
}
OFFICIAL_ARCHS = (*OFFICIAL_VITS, "resnet50")
"""The `arch` values of the released pre-training files (state["arch"])."""


def official_vit(name: str) -> ViTOptions:
    """A fresh copy of a released ViT size (vit_small, vit_base, vit_conv_small, vit_conv_base)."""
    return dataclasses.replace(OFFICIAL_VITS[name][0])


@dataclass
class PretrainConfig(SelfSupervisedConfig):
    """mocov3-pretrain options; every field is a --kebab-case flag."""

    arch: Arch = "vit"
    """Backbone: vit (sizes from the ViT flags) or resnet (from the ResNet flags)."""
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=lambda: official_vit("vit_base"))
    resnet: Annotated[ResNetOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ResNetOptions)
    conv_stem: bool = False
    """ViT: convolutional stem (3x3 stride-2 convs with BN + ReLU) in place of the patch projection."""
    stop_grad_conv1: bool = True
    """ViT: keep the random patch projection frozen (the paper's fix for training instability)."""
    crop_min_scale: float = 0.08
    """RandomResizedCrop scale range is (crop_min_scale, 1) for both views."""
    dim: int = 256
    """Output width of the projector and predictor."""
    mlp_dim: int = 4096
    """Hidden width of the projector and predictor."""
    temperature: float = 0.2
    """Softmax temperature T of InfoNCE (the loss is scaled by 2T, as in the official code)."""
    moco_m: float = 0.99
    """Momentum m0 of the key encoder."""
    moco_m_cos: bool = True
    """Raise the momentum from m0 to 1 on a half cosine over training (per iteration)."""
    optimizer: Literal["adamw", "lars"] = "adamw"
    """adamw (ViT recipes, weight decay on every parameter) or lars (ResNet recipes)."""

    def validate(self) -> None:
        super().validate()
        if self.arch == "vit":
            self.vit.validate(self.input_size)
            p = self.vit.patch_size
            check(not self.conv_stem or (p & (p - 1) == 0 and p >= 2 and self.vit.embed_dim % (p // 2) == 0),
                  "conv_stem", f"needs a power-of-two --patch-size and --embed-dim divisible by {max(p // 2, 1)}",
                  self.conv_stem)
        else:
            self.resnet.validate()
        check(self.dim >= 1 and self.mlp_dim >= 1, "dim" if self.dim < 1 else "mlp_dim", "must be >= 1",
              min(self.dim, self.mlp_dim))
        check(self.temperature > 0, "temperature", "must be > 0", self.temperature)
        check(0 <= self.moco_m <= 1, "moco_m", "must be in [0, 1]", self.moco_m)


@dataclass
class ExportConfig(RunConfig):
    """mocov3-export options: a MoCo v3 pre-training file (vis or official) -> a plain backbone file."""

    checkpoint: str | None = None
    """A vis mocov3-pretrain checkpoint or an official MoCo v3 pre-training file (module.base_encoder.*)."""
    output: str | None = None
    """The backbone file to write (vis-backbone/1: arch, source, timm / torchvision keys)."""
    keep_projector: bool = False
    """Keep the projector (head.* / fc.*): RCG's encoder reads it; linear probes and ViTDet do not."""
    force: bool = False
    """Overwrite an existing --output."""

    def validate(self) -> None:
        super().validate()
        check(self.checkpoint is not None, "checkpoint", "is required", self.checkpoint)
        check(Path(str(self.checkpoint)).is_file(), "checkpoint", "is not a file", self.checkpoint)
        check(self.output is not None, "output", "is required", self.output)
        check(self.force or not Path(str(self.output)).exists(), "output",
              "exists already (add --force to overwrite it)", self.output)
