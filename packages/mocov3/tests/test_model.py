"""MoCoV3: sizes of every backbone and head, FLOPs, and the properties of the objective (loss at init,
symmetry, where gradients stop, the momentum schedule)."""

import math

import pytest
import torch

from vis.core.config import ResNetOptions, ViTOptions
from vis.core.flops import meta_macs
from vis.mocov3.config import PretrainConfig, official_vit
from vis.mocov3.model import MoCoV3, build_encoder
from vis.mocov3.pretrain import momentum_at, momentum_update

# reference section 5 (computed from the architecture): backbone (no head, fixed pos table included),
# projector, predictor, base branch (backbone + projector + predictor), with the momentum copy
VIT_PARAMS = {
    "vit_small": (21_665_664, 19_415_040, 2_105_344, 43_186_048, 84_266_752),
    "vit_base": (85_798_656, 20_987_904, 2_105_344, 108_891_904, 215_678_464),
}
R50_PARAMS = (23_508_032, 9_445_376, 2_105_344)
GMACS = {"vit_small": 4.60, "vit_base": 17.56}


def n(module) -> int:
    return sum(p.numel() for p in module.parameters())


def vit_mocov3(name: str) -> MoCoV3:
    vit = official_vit(name)
    return MoCoV3(build_encoder("vit", 224, vit, ResNetOptions(), conv_stem="conv" in name), 256, 4096, 0.2)


@pytest.mark.parametrize("name", VIT_PARAMS)
def test_vit_parameter_counts_of_backbone_and_heads(name):
    with torch.device("meta"):
        backbone = build_encoder("vit", 224, official_vit(name), ResNetOptions())
        size = n(backbone)
        m = MoCoV3(backbone, 256, 4096, 0.2)
    assert (size, n(m.base_encoder.head), n(m.predictor), n(m.base_encoder) + n(m.predictor), n(m)) == VIT_PARAMS[name]
    assert m.base_encoder.pos_embed.numel() == 197 * official_vit(name).embed_dim  # fixed, counted in the backbone


def test_resnet50_parameter_counts_of_backbone_and_heads():
    with torch.device("meta"):
        backbone = build_encoder("resnet", 224, ViTOptions(), ResNetOptions(50, 64, False))
        size = n(backbone)
        m = MoCoV3(backbone, 256, 4096, 1.0)
    assert (size, n(m.base_encoder.fc), n(m.predictor)) == R50_PARAMS
    assert n(m.momentum_encoder) == size + R50_PARAMS[1]


def test_head_layouts_follow_the_official_mlps():
    with torch.device("meta"):
        vit = vit_mocov3("vit_small")
        r50 = MoCoV3(build_encoder("resnet", 224, ViTOptions(), ResNetOptions(50, 64, False)), 256, 4096, 1.0)
    linear = lambda seq: [(i, tuple(x.weight.shape), x.bias is None) for i, x in enumerate(seq)
                          if isinstance(x, torch.nn.Linear)]
    assert linear(vit.base_encoder.head) == [(0, (4096, 384), True), (3, (4096, 4096), True), (6, (256, 4096), True)]
    assert not vit.base_encoder.head[7].affine  # last BN without affine
    assert linear(vit.predictor) == [(0, (4096, 256), True), (3, (256, 4096), True)] and len(vit.predictor) == 5
    assert linear(r50.base_encoder.fc) == [(0, (4096, 2048), True), (3, (256, 4096), True)]
    assert len(r50.predictor) == 4  # no last BN for ResNet-50


@pytest.mark.parametrize("name", GMACS)
def test_flops_match_the_paper(name):
    macs = meta_macs(lambda: build_encoder("vit", 224, official_vit(name), ResNetOptions()), (1, 3, 224, 224),
                     call=lambda m, x: m.features(x))
    assert macs / 1e9 == pytest.approx(GMACS[name], rel=0.02)


def tiny(temperature=0.2, arch="vit", dim=64) -> MoCoV3:
    enc = build_encoder(arch, 32, ViTOptions(4, 64, 4, 4), ResNetOptions(18, 8, True))
    return MoCoV3(enc, dim, 256, temperature)


@pytest.mark.parametrize("arch,temperature", [("vit", 0.2), ("resnet", 1.0)])
def test_loss_at_initialisation_is_4T_ln_B(arch, temperature):
    """At initialisation a query carries no information on which key is its positive: the predictor is a
    fresh random map, so q_i . k_j has about the same distribution for j = i as for j != i. Each InfoNCE
    term is then CE = -s_ii + log sum_j exp(s_ij) with B = B_global nearly exchangeable logits, i.e.
    ln(B) + (a small excess from the spread of the logits: with cosines of variance ~1/d at temperature T,
    log E exp(s) = 1 / (2 d T^2), 0.2 for d = 64, T = 0.2; 0.008 at T = 1). Scaled by 2T and summed over the
    two symmetric terms: loss = 2 * 2T * (ln B + 1/(2 d T^2)) ~= 4T ln(B)."""
    torch.manual_seed(0)
    b, d = 256, 64
    m = tiny(temperature, arch, d)
    with torch.no_grad():
        loss = m(torch.randn(b, 3, 32, 32), torch.randn(b, 3, 32, 32))["loss"].item()
    assert loss == pytest.approx(4 * temperature * math.log(b), rel=0.06)
    assert loss == pytest.approx(4 * temperature * (math.log(b) + 1 / (2 * d * temperature**2)), rel=0.03)


def test_loss_is_symmetric_in_the_two_views():
    torch.manual_seed(0)
    m = tiny()
    x1, x2 = torch.randn(16, 3, 32, 32), torch.randn(16, 3, 32, 32)
    torch.testing.assert_close(m(x1, x2)["loss"], m(x2, x1)["loss"], rtol=1e-6, atol=0)


def test_gradients_reach_the_query_branch_only():
    torch.manual_seed(0)
    m = tiny()
    m(torch.randn(8, 3, 32, 32), torch.randn(8, 3, 32, 32))["loss"].backward()
    assert all(p.grad is None and not p.requires_grad for p in m.momentum_encoder.parameters())
    assert m.predictor[0].weight.grad.abs().sum() > 0 and m.base_encoder.head[0].weight.grad.abs().sum() > 0
    assert m.base_encoder.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    assert m.base_encoder.patch_embed.proj.weight.grad is None  # stop-grad conv1: the random projection stays
    assert not m.base_encoder.pos_embed.requires_grad


def test_momentum_follows_the_cosine_schedule():
    cfg = PretrainConfig(epochs=10, moco_m=0.99)
    m = tiny()
    expected = {0.0: 0.99, 2.5: 1 - 0.5 * (1 + math.cos(math.pi / 4)) * 0.01, 5.0: 0.995, 7.3: None, 9.9: None}
    for epoch, value in expected.items():
        value = value or 1 - 0.5 * (1 + math.cos(math.pi * epoch / 10)) * 0.01
        for p in m.base_encoder.parameters():
            p.data.zero_()
        for p in m.momentum_encoder.parameters():
            p.data.fill_(1.0)
        momentum_update(cfg, m)(1, epoch)  # p_m <- m * 1 + (1 - m) * 0 = m
        assert all(torch.allclose(p, torch.full_like(p, value)) for p in m.momentum_encoder.parameters()), epoch
    assert momentum_at(cfg, 0.0) == 0.99 and momentum_at(cfg, 10.0) == 1.0
    momentum_update(cfg, m)(100, 10.0)  # after the last step: the official loop does no further update
    assert all(torch.all(p == value) for p in m.momentum_encoder.parameters())
    fixed = PretrainConfig(epochs=10, moco_m=0.9, moco_m_cos=False)
    momentum_update(fixed, m)(1, 7.3)
    assert all(torch.allclose(p, torch.full_like(p, 0.9 * value)) for p in m.momentum_encoder.parameters())
