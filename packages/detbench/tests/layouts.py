"""Checkpoints of each initialisation's key layout at the tiny size (ViT 64-d x 4 blocks x 4 heads, patch 4 at
32 px: an 8 x 8 grid), built from the layouts the reference names, with random values."""

from __future__ import annotations

from pathlib import Path

import torch

from vis.core import checkpoint as ckpt
from vis.core.convert import save_backbone
from vis.core.models.vit import VisionTransformer

TINY = dict(patch_size=4, embed_dim=64, depth=4, num_heads=4)
GRID = 8


def mae_file(path: Path) -> dict[str, torch.Tensor]:
    """vis mae-pretrain: {"model": encoder.* (timm names) + decoder.*}; returns the encoder's weights."""
    enc = VisionTransformer(img_size=32, num_classes=0, **TINY)
    sd = {f"encoder.{k}": v for k, v in enc.state_dict().items()}
    sd["decoder.mask_token"] = torch.zeros(1, 1, 32)
    ckpt.save_atomic({"model": sd}, path)
    return enc.state_dict()


def supervised_file(path: Path) -> dict[str, torch.Tensor]:
    """vis mae-finetune: a global-pool classifier (fc_norm, head) in timm names under "model"."""
    model = VisionTransformer(img_size=32, num_classes=10, global_pool="avg", pos_embed="sincos_trainable", **TINY)
    ckpt.save_atomic({"model": model.state_dict()}, path)
    return model.state_dict()


def mocov3_backbone_file(path: Path) -> dict[str, torch.Tensor]:
    """mocov3-export: a vis-backbone/1 file of a ViT (sin-cos in MoCo v3's order, no head)."""
    kwargs = {"img_size": 32, **TINY, "pos_embed": "sincos", "sincos_order": "mocov3", "num_classes": 0}
    model = VisionTransformer(**kwargs)
    save_backbone(path, model.state_dict(), {"kind": "vit", "kwargs": kwargs}, source="test")
    return model.state_dict()


def mocov3_official_file(path: Path) -> dict[str, torch.Tensor]:
    """An official MoCo v3 pre-training file: state_dict with module.base_encoder.* (projector head.*),
    module.momentum_encoder.* and module.predictor.*."""
    enc = VisionTransformer(img_size=32, num_classes=0, init="mocov3", **TINY).state_dict()
    sd = {f"module.base_encoder.{k}": v for k, v in enc.items()}
    sd |= {"module.base_encoder.head.0.weight": torch.randn(128, 64), "module.predictor.0.weight": torch.randn(64, 64)}
    sd |= {f"module.momentum_encoder.{k}": v.clone() for k, v in enc.items()}
    ckpt.save_atomic({"state_dict": sd, "arch": "vit_small"}, path)
    return enc


def beit_file(path: Path, shared: bool = False, depth: int = 4) -> dict[str, torch.Tensor]:
    """BEiT's released layout (unilm/beit modeling_pretrain): no pos_embed, per-block gamma_1 / gamma_2, q_bias /
    v_bias beside a bias-free qkv, per-block relative_position_bias_table [(2G-1)^2 + 3, heads] with its
    relative_position_index (or, `shared`, one rel_pos_bias.* table), cls / mask tokens, norm and lm_head."""
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    d, heads, rows = 64, 4, (2 * GRID - 1) ** 2 + 3
    sd = {"cls_token": r(1, 1, d), "mask_token": r(1, 1, d), "patch_embed.proj.weight": r(d, 3, 4, 4),
          "patch_embed.proj.bias": r(d), "norm.weight": r(d), "norm.bias": r(d), "lm_head.weight": r(8192, d),
          "lm_head.bias": r(8192)}
    for i in range(depth):
        b = f"blocks.{i}."
        sd |= {b + "gamma_1": r(d), b + "gamma_2": r(d), b + "norm1.weight": r(d), b + "norm1.bias": r(d),
               b + "attn.q_bias": r(d), b + "attn.v_bias": r(d), b + "attn.qkv.weight": r(3 * d, d),
               b + "attn.proj.weight": r(d, d), b + "attn.proj.bias": r(d), b + "norm2.weight": r(d),
               b + "norm2.bias": r(d), b + "mlp.fc1.weight": r(4 * d, d), b + "mlp.fc1.bias": r(4 * d),
               b + "mlp.fc2.weight": r(d, 4 * d), b + "mlp.fc2.bias": r(d)}
        if not shared:
            sd |= {b + "attn.relative_position_bias_table": r(rows, heads),
                   b + "attn.relative_position_index": torch.zeros(GRID**2 + 1, GRID**2 + 1, dtype=torch.long)}
    if shared:
        sd |= {"rel_pos_bias.relative_position_bias_table": r(rows, heads),
               "rel_pos_bias.relative_position_index": torch.zeros(GRID**2 + 1, GRID**2 + 1, dtype=torch.long)}
    ckpt.save_atomic({"model": sd}, path)
    return sd


WRITERS = {"supervised": supervised_file, "mocov3": mocov3_backbone_file, "beit": beit_file, "mae": mae_file}
