"""ViT: parameter counts, FLOPs, position tables, timm parity of names and numerics."""

import math

import pytest
import timm
import torch

from vis.core.flops import fvcore_macs, meta_macs
from vis.core.models import VisionTransformer, resize_pos_embed, sincos_2d

PARAMS_WITH_HEAD = {  # timm's VisionTransformer at 224 px with a 1000-class head
    "vit_small_patch16": 22_050_664,
    "vit_base_patch16": 86_567_656,
    "vit_large_patch16": 304_326_632,
    "vit_huge_patch14": 632_045_800,
}


@pytest.mark.parametrize("name", PARAMS_WITH_HEAD)
def test_parameter_counts_are_exact(name):
    with torch.device("meta"):
        model = VisionTransformer.from_name(name)
    assert sum(p.numel() for p in model.parameters()) == PARAMS_WITH_HEAD[name]


def test_vit_base_flops_count_attention():
    model = VisionTransformer.from_name("vit_base_patch16").eval()
    macs = fvcore_macs(model, torch.randn(1, 3, 224, 224))
    assert macs == pytest.approx(17.58e9, rel=0.02)
    # attention matmuls alone: 12 blocks x 2 x 197^2 x 768
    attention = 12 * 2 * 197**2 * 768
    with_meta = meta_macs(lambda: VisionTransformer.from_name("vit_base_patch16"), (1, 3, 224, 224))
    assert with_meta == pytest.approx(macs, rel=0.01)
    assert macs - attention == pytest.approx(16.87e9, rel=0.01)  # what fvcore reports without the handle


def test_state_dict_keys_and_outputs_match_timm():
    kw = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4, num_classes=10)
    ours = VisionTransformer(**kw).eval()
    ref = timm.models.vision_transformer.VisionTransformer(**kw).eval()
    assert set(ours.state_dict()) == set(ref.state_dict())
    ref.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


def test_global_pool_uses_fc_norm_and_no_final_norm():
    m = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=1, num_heads=4, global_pool="avg")
    assert isinstance(m.norm, torch.nn.Identity) and isinstance(m.fc_norm, torch.nn.LayerNorm)
    ref = timm.models.vision_transformer.VisionTransformer(
        img_size=32, patch_size=8, embed_dim=64, depth=1, num_heads=4, global_pool="avg").eval()
    ref.load_state_dict(m.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(m.eval()(x), ref(x), atol=1e-5, rtol=1e-5)


def test_sincos_values_at_known_positions_both_orders():
    dim, h, w = 16, 3, 5
    mae = sincos_2d(dim, h, w, cls_token=True, order="mae")
    moco = sincos_2d(dim, h, w, cls_token=True, order="mocov3")
    assert mae.shape == (1 + h * w, dim) and mae.dtype == torch.float32
    assert torch.all(mae[0] == 0) and torch.all(moco[0] == 0)
    q = dim // 4
    omega = [1 / 10000 ** (k / q) for k in range(q)]
    for row in range(h):
        for col in range(w):
            t = 1 + row * w + col
            want_col = [math.sin(col * o) for o in omega] + [math.cos(col * o) for o in omega]
            want_row = [math.sin(row * o) for o in omega] + [math.cos(row * o) for o in omega]
            torch.testing.assert_close(mae[t], torch.tensor(want_col + want_row), atol=1e-6, rtol=0)
            torch.testing.assert_close(moco[t], torch.tensor(want_row + want_col), atol=1e-6, rtol=0)


def test_sincos_pos_embed_is_fixed_but_saved():
    m = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=1, num_heads=4)
    assert not m.pos_embed.requires_grad and "pos_embed" in m.state_dict()
    torch.testing.assert_close(m.pos_embed[0], sincos_2d(64, 4, 4, cls_token=True))


def test_resize_pos_embed_keeps_prefix_and_exact_on_same_grid():
    table = sincos_2d(32, 4, 4, cls_token=True).unsqueeze(0)
    assert resize_pos_embed(table, (4, 4)) is table
    bigger = resize_pos_embed(table, (6, 6))
    assert bigger.shape == (1, 37, 32)
    torch.testing.assert_close(bigger[:, 0], table[:, 0])


def test_drop_path_is_stochastic_in_train_only():
    m = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4, drop_path_rate=0.5)
    x = torch.randn(4, 3, 32, 32)
    m.train()
    assert not torch.allclose(m(x), m(x))
    m.eval()
    torch.testing.assert_close(m(x), m(x))


def test_eager_attention_matches_sdpa_and_returns_probabilities():
    m = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=1, num_heads=4).eval()
    tokens = torch.randn(2, 17, 64)
    attn = m.blocks[0].attn
    out, probs = attn(tokens, return_attention=True)
    torch.testing.assert_close(out, attn(tokens), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 4, 17))
