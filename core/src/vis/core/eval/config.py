"""Options of the shared evaluation protocols (fine-tuning, linear probing): plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from vis.core.config import Arch, ResNetOptions, TrainConfig, ViTOptions, check


@dataclass
class ClassifierConfig(TrainConfig):
    """What fine-tuning and linear probing share: the ViT, the weights to start from, the readout."""

    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    finetune: str | None = None
    """Pre-trained weights to start from (vis or official checkpoint); omit to start from random init."""
    input_size: int = 224
    global_pool: bool = False
    """Read out the mean of the patch tokens through fc_norm instead of the cls token after the final norm."""
    eval_batch_size: int = 256

    def validate(self) -> None:
        super().validate()
        self._validate_backbone()
        if self.finetune is not None:
            check(Path(self.finetune).is_file(), "finetune", "is not a file", self.finetune)

    def _validate_backbone(self) -> None:
        self.vit.validate(self.input_size)


@dataclass
class FinetuneConfig(ClassifierConfig):
    """Fine-tuning options; every field is a --kebab-case flag."""

    global_pool: bool = True
    drop_path: float = 0.1
    layer_decay: float = 0.75
    mixup: float = 0.8
    cutmix: float = 1.0
    smoothing: float = 0.1
    reprob: float = 0.25
    """Random-erasing probability (pixel mode, one box)."""
    aa: str | None = "rand-m9-mstd0.5-inc1"
    """timm RandAugment policy (None: off)."""
    crop_min_scale: float = 0.08

    def validate(self) -> None:
        super().validate()
        check(0 <= self.drop_path < 1, "drop_path", "must be in [0, 1)", self.drop_path)
        check(0 < self.layer_decay <= 1, "layer_decay", "must be in (0, 1]", self.layer_decay)
        for name in ("mixup", "cutmix", "smoothing", "reprob"):
            check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))
        check(not (self.mixup or self.cutmix) or self.batch_size % 2 == 0, "batch_size",
              "must be even with mixup / cutmix", self.batch_size)


@dataclass
class LinearProbeConfig(ClassifierConfig):
    """Linear-probe options (cls token by default; --global-pool probes the mean of patch tokens through a
    fresh, frozen, non-affine fc_norm); every field is a --kebab-case flag. The defaults are MAE's protocol
    (BN + linear head, LARS, per-iteration schedule, TF-style crops); MoCo v3 and SimSiam probe with a plain
    linear head, SGD or LARC, a per-epoch cosine and torchvision crops."""

    arch: Arch = "vit"
    """Backbone: vit (sizes from the ViT flags) or resnet (from the ResNet flags)."""
    resnet: Annotated[ResNetOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ResNetOptions)
    conv_stem: bool = False
    """ViT: MoCo v3's convolutional stem in place of the patch projection."""
    head: Literal["bn_linear", "linear"] = "bn_linear"
    """bn_linear: BatchNorm1d without affine, then Linear (MAE); linear: Linear alone (MoCo v3, SimSiam)."""
    optimizer: Literal["lars", "larc", "sgd"] = "lars"
    """lars: MoCo v3 / MAE LARS; larc: apex LARC (SimSiam); sgd: momentum 0.9 (MoCo v3)."""
    lr_schedule: Literal["iteration", "epoch"] = "iteration"
    train_crop: Literal["tf", "torchvision"] = "tf"
    """Training crops: TF-style RandomResizedCrop (MAE) or torchvision's (MoCo v3, SimSiam)."""

    def _validate_backbone(self) -> None:
        if self.arch == "resnet":  # the ViT flags do not apply
            self.resnet.validate()
        else:
            self.vit.validate(self.input_size)
