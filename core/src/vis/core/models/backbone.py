"""Build the backbone a config names (a ViT or a torchvision ResNet) as a feature extractor: its forward
returns [N, num_features] (ViT: the readout of `global_pool`; ResNet: the average-pooled last stage)."""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from vis.core.config import ResNetOptions, ViTOptions


def build_backbone(arch: str, img_size: int, vit: ViTOptions, resnet: ResNetOptions, **vit_kwargs: Any) -> nn.Module:
    """`arch` "vit" (sizes from `vit`, other VisionTransformer options from `vit_kwargs`) or "resnet"."""
    if arch == "resnet":
        from vis.core.models.resnet import resnet as build_resnet

        return build_resnet(num_classes=0, **resnet.kwargs())
    if arch == "vit":
        from vis.core.models.vit import VisionTransformer

        return VisionTransformer(img_size=img_size, num_classes=0, **vars(vit), **vit_kwargs)
    raise ValueError(f"unknown backbone '{arch}' (vit | resnet)")


def build_from_arch(arch: dict[str, Any]) -> nn.Module:
    """The backbone an `arch` record of a backbone file describes (vis.core.convert.save_backbone): kind "vit"
    (VisionTransformer keyword arguments) or "resnet" (`resnet` keyword arguments), and optionally a
    "projector" ({"dims", "last_bn"} of `mlp_head`) put where the classifier was."""
    kind, kwargs = arch.get("kind"), dict(arch.get("kwargs", {}))
    if kind == "resnet":
        from vis.core.models.resnet import resnet

        model: nn.Module = resnet(num_classes=0, **kwargs)
    elif kind == "vit":
        from vis.core.models.vit import VisionTransformer

        model = VisionTransformer(**{"num_classes": 0, **kwargs})
    else:
        raise ValueError(f"unknown backbone kind {kind!r} (vit | resnet)")
    if "projector" in arch:
        from vis.core.models.heads import mlp_head

        replace_head(model, mlp_head(**arch["projector"]))
    return model


def resnet_arch(resnet: ResNetOptions) -> dict[str, Any]:
    """The `arch` record of a ResNet backbone file."""
    return {"kind": "resnet", "kwargs": resnet.kwargs()}


def head_name(backbone: nn.Module) -> str:
    """The attribute holding the classification head: "fc" for a ResNet, "head" for a ViT."""
    return "fc" if hasattr(backbone, "layer4") else "head"


def replace_head(backbone: nn.Module, head: nn.Module) -> None:
    """Put `head` (a projector, a classifier) where the backbone's classification head is, so that the
    state-dict keys are the official ones (MoCo v3: `base_encoder.head.*` / `base_encoder.fc.*`; SimSiam:
    `encoder.fc.*`)."""
    setattr(backbone, head_name(backbone), head)
