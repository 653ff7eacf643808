"""Stage 0: the frozen representation encoder (RCG section 3.1, App. A).

A MoCo v3 ViT and its projection head (Linear without bias, BN, ReLU, ..., BN without affine) map an image to a
compact vector, which is then standardised by its own mean and std over its dimensions. Images arrive in [0, 1]
at the generator's size, are resized (bicubic) to the encoder's size and ImageNet-normalised. The encoder is
read through vis-core's converters, never by importing vis-mocov3: a backbone file from `mocov3-export
--keep-projector`, a vis mocov3-pretrain checkpoint (its saved config), or an official MoCo v3 file.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.convert import BACKBONE_FORMAT, StateDict, model_state, read_checkpoint, strict_load, under_prefix
from vis.core.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from vis.core.errors import UserError
from vis.core.models.backbone import build_from_arch

# the released MoCo v3 ViTs (12 heads for ViT-S too); the ConvStem models drop one block
OFFICIAL = {"vit_small": (384, 12, False), "vit_base": (768, 12, False), "vit_conv_small": (384, 11, True),
            "vit_conv_base": (768, 11, True)}
WANTED = "a MoCo v3 file with its projector (mocov3-pretrain checkpoint, official file, or mocov3-export " \
         "--keep-projector backbone)"


def standardize(z: torch.Tensor) -> torch.Tensor:
    """Each vector minus its mean, divided by its (unbiased) std over its own dimensions."""
    return (z - z.mean(dim=-1, keepdim=True)) / z.std(dim=-1, keepdim=True)


def _projector_dims(sd: StateDict) -> list[int]:
    linears = sorted((k for k in sd if k.startswith("head.") and k.endswith(".weight") and sd[k].ndim == 2),
                     key=lambda k: int(k.split(".")[1]))
    return [sd[linears[0]].shape[1], *(sd[k].shape[0] for k in linears)] if linears else []


def encoder_arch(state: dict[str, Any], sd: StateDict, source: str) -> tuple[dict[str, Any], StateDict]:
    """(arch record, backbone weights with `head.*`) of any accepted MoCo v3 file."""
    if state.get("format") == BACKBONE_FORMAT:
        arch, weights = dict(state["arch"]), sd
    else:
        if any(k.startswith("module.base_encoder.") for k in sd):
            sd = under_prefix(sd, "module.")
        weights = under_prefix(sd, "base_encoder.")
        cfg = state.get("config")
        if isinstance(cfg, dict) and "vit" in cfg and cfg.get("arch", "vit") == "vit":
            kw = {"img_size": cfg["input_size"], **cfg["vit"], "conv_stem": cfg.get("conv_stem", False)}
        elif state.get("arch") in OFFICIAL:
            dim, depth, conv = OFFICIAL[state["arch"]]
            kw = {"img_size": 224, "patch_size": 16, "embed_dim": dim, "depth": depth, "num_heads": 12,
                  "conv_stem": conv}
        else:
            raise UserError("not a MoCo v3 ViT checkpoint", source, f"expected {WANTED}")
        arch = {"kind": "vit", "kwargs": {**kw, "pos_embed": "sincos", "sincos_order": "mocov3", "num_classes": 0}}
        arch["projector"] = {"dims": _projector_dims(weights), "last_bn": True}
    if arch.get("kind") != "vit" or not arch.get("projector", {}).get("dims"):
        raise UserError("the encoder file has no ViT projector", source, f"expected {WANTED}")
    return arch, weights


class RepEncoder(nn.Module):
    """Frozen encoder: images in [0, 1] -> standardised projector outputs [N, rep_dim]. Stays in eval mode
    (its BN layers use their running statistics) whatever `train()` is asked."""

    def __init__(self, backbone: nn.Module, img_size: int):
        super().__init__()
        self.backbone = backbone.requires_grad_(False).eval()
        self.img_size = img_size
        self.rep_dim = backbone.head[-2].out_features if isinstance(backbone.head[-1], nn.BatchNorm1d) else \
            backbone.head[-1].out_features
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> RepEncoder:
        return super().train(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float()
        if x.shape[-1] != self.img_size or x.shape[-2] != self.img_size:
            x = F.interpolate(x, size=(self.img_size, self.img_size), mode="bicubic", align_corners=False,
                              antialias=True).clamp(0, 1)
        return standardize(self.backbone((x - self.mean) / self.std).float())


def load_encoder(path: str) -> RepEncoder:
    """The RepEncoder of a MoCo v3 file, loaded strictly (every backbone and projector key)."""
    state = read_checkpoint(path)
    arch, weights = encoder_arch(state, model_state(state, path), path)
    backbone = build_from_arch(arch)
    strict_load(backbone, weights, path)
    return RepEncoder(backbone, arch["kwargs"]["img_size"])
