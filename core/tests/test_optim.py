"""Parameter groups, layer-wise lr decay, LARS and the lr schedule."""

import math

import pytest
import torch
import torch.nn as nn

from vis.core.models import VisionTransformer
from vis.core.optim import LARS, effective_lr, param_groups, vit_layer_id, warmup_cosine


def tiny_vit(**kw):
    return VisionTransformer(img_size=16, patch_size=8, embed_dim=32, depth=3, num_heads=2, num_classes=5, **kw)


def group_of(groups, name):
    return next(g for g in groups if name in g["names"])


def test_pretraining_rule_decays_tokens_but_not_biases_norms_or_fixed_tables():
    model = tiny_vit()
    groups = param_groups(model, 0.05)
    assert group_of(groups, "cls_token")["weight_decay"] == 0.05  # 3-D: decayed, as in MAE
    assert group_of(groups, "blocks.0.attn.qkv.weight")["weight_decay"] == 0.05
    for name in ("blocks.0.attn.qkv.bias", "blocks.0.norm1.weight", "norm.bias", "head.bias"):
        assert group_of(groups, name)["weight_decay"] == 0.0
    assert all("pos_embed" not in g["names"] for g in groups)  # frozen sin-cos table is not optimised


def test_layer_decay_scales_follow_the_beit_rule():
    model = tiny_vit(pos_embed="sincos_trainable", global_pool="avg")
    layers = 3 + 1
    groups = param_groups(model, 0.05, no_decay={"pos_embed", "cls_token"},
                          layer_id=lambda n: vit_layer_id(n, layers), num_layers=layers, layer_decay=0.5)
    assert group_of(groups, "patch_embed.proj.weight")["lr_scale"] == 0.5**4
    assert group_of(groups, "pos_embed")["lr_scale"] == 0.5**4
    assert group_of(groups, "pos_embed")["weight_decay"] == 0.0
    assert group_of(groups, "cls_token")["weight_decay"] == 0.0
    assert group_of(groups, "blocks.0.mlp.fc1.weight")["lr_scale"] == 0.5**3
    assert group_of(groups, "blocks.2.mlp.fc1.weight")["lr_scale"] == 0.5**1
    assert group_of(groups, "head.weight")["lr_scale"] == 1.0
    assert group_of(groups, "fc_norm.weight")["lr_scale"] == 1.0


def test_warmup_then_half_cosine():
    assert warmup_cosine(0, 1.0, 0.0, 5, 100) == 0
    assert warmup_cosine(2.5, 1.0, 0.0, 5, 100) == pytest.approx(0.5)
    assert warmup_cosine(5, 1.0, 0.1, 5, 100) == pytest.approx(1.0)
    assert warmup_cosine(52.5, 1.0, 0.1, 5, 100) == pytest.approx(0.1 + 0.9 * 0.5)
    assert warmup_cosine(100, 1.0, 0.1, 5, 100) == pytest.approx(0.1)
    assert effective_lr(1.5e-4, None, 4096) == pytest.approx(2.4e-3)
    assert effective_lr(1.5e-4, 0.01, 4096) == 0.01


def test_lars_scales_matrices_by_trust_ratio_and_leaves_vectors_plain():
    w = nn.Parameter(torch.full((4, 4), 2.0))
    b = nn.Parameter(torch.ones(4))
    w.grad, b.grad = torch.full((4, 4), 0.5), torch.full((4,), 0.5)
    LARS([w, b], lr=1.0, weight_decay=0.0, momentum=0.0, trust_coefficient=0.001).step()
    trust = 0.001 * torch.norm(torch.full((4, 4), 2.0)) / torch.norm(torch.full((4, 4), 0.5))
    assert torch.allclose(w, torch.full((4, 4), 2.0 - float(trust) * 0.5))
    assert torch.allclose(b, torch.full((4,), 0.5))  # 1-D: no trust ratio, no weight decay
    assert math.isclose(float(trust), 0.004, rel_tol=1e-6)
