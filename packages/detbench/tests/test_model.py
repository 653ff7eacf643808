"""The paper's detector exactly: the resolution modules' parameter counts (reference section 5, computed),
two shared BEiT-style bias tables of 729 (window 14) and 16,129 (global 64 x 64) rows per head, taps after
blocks 3/6/9/12 (B) and 6/12/18/24 (L) which are also the global blocks, feature strides 4/8/16/32, the bias
actually added to the attention logits, and layer scale."""

import pytest
import torch

from vis.core.config import ViTOptions, vit_size
from vis.core.det_train import count
from vis.core.models.rel_bias import SharedRelPosBias, relative_position_index, resize_rel_bias_table
from vis.core.models.window_attn import RelPosAttention
from vis.detbench.config import BenchDetOptions
from vis.detbench.model import build_detector, meta_detector, tap_blocks

SIZES = {"b": "vit_base_patch16", "l": "vit_large_patch16"}
# reference section 5 (computed): 4x path 8D^2 + 4D, 2x path 4D^2 + D
RESOLUTION = {"b": (4_721_664, 2_360_064), "l": (8_392_704, 4_195_328)}
TAPS_1_BASED = {"b": [3, 6, 9, 12], "l": [6, 12, 18, 24]}


@pytest.mark.parametrize("size", ["b", "l"])
def test_resolution_modules_tables_and_taps(size):
    vit = vit_size(SIZES[size])
    model = meta_detector(vit, BenchDetOptions())
    bb = model.backbone
    four, two = RESOLUTION[size]
    assert [count(a) for a in bb.adapters] == [four, two, 0, 0]
    assert round(count(bb.adapters) / 1e6, 2) == {"b": 7.08, "l": 12.59}[size]
    assert isinstance(bb.adapters[1], torch.nn.ConvTranspose2d) and isinstance(bb.adapters[3], torch.nn.MaxPool2d)
    assert isinstance(bb.adapters[0][1], torch.nn.GroupNorm)  # the 4x path: deconv -> GN -> GELU -> deconv
    assert [t + 1 for t in bb.taps] == TAPS_1_BASED[size]
    trunk = bb.net
    assert [i for i, b in enumerate(trunk.blocks) if b.window_size == 0] == list(bb.taps)  # global = taps
    assert {b.window_size for i, b in enumerate(trunk.blocks) if i not in bb.taps} == {14}
    tables = {n: p.shape for n, p in trunk.named_parameters() if "bias_table" in n or "rel_pos" in n}
    assert tables == {"rel_bias_window.relative_position_bias_table": (729, vit.num_heads),
                      "rel_bias_global.relative_position_bias_table": (16_129, vit.num_heads)}
    assert not any("ls1" in n for n, _ in trunk.named_parameters())  # layer scale only on request


def test_feature_strides_and_levels():
    """ViT-shaped (patch 16) at 128 px: p2..p6 at strides 4, 8, 16, 32, 64; the RoI pooling uses 4..32."""
    det = BenchDetOptions(window_size=4, pretrain_img_size=64, head_channels=16, fc_dim=32, num_classes=2)
    torch.manual_seed(0)
    model = build_detector(ViTOptions(patch_size=16, embed_dim=32, depth=4, num_heads=2), det, 128).eval()
    with torch.no_grad():
        feats = model.backbone(torch.randn(1, 3, 128, 128))
    assert {k: tuple(v.shape[-2:]) for k, v in feats.items()} == {"p2": (32, 32), "p3": (16, 16), "p4": (8, 8),
                                                                  "p5": (4, 4), "p6": (2, 2)}
    assert all(v.shape[1] == 16 for v in feats.values())
    assert model.roi_heads.box_roi_pool.scales == [1 / 4, 1 / 8, 1 / 16, 1 / 32]
    assert isinstance(model.roi_heads.box_head[0][1], torch.nn.BatchNorm2d)  # paper: BN (SyncBN) in the heads


def test_bias_table_layout_and_sharing():
    """BEiT's index (dh + h - 1)(2w - 1) + (dw + w - 1); one table per attention type feeds every block of
    that type: a change to it changes every such block's output."""
    idx = relative_position_index(2, 2)
    assert idx.tolist() == [[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]]
    torch.manual_seed(0)
    det = BenchDetOptions(window_size=4, global_blocks=[1, 3], pretrain_img_size=64)
    model = build_detector(ViTOptions(patch_size=16, embed_dim=32, depth=4, num_heads=2), det, 128).eval()
    trunk = model.backbone.net
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        before = trunk.forward_intermediates(x, [0, 1, 2, 3])
        trunk.rel_bias_window.relative_position_bias_table.normal_()
        after = trunk.forward_intermediates(x, [0, 1, 2, 3])
    assert not torch.equal(before[0], after[0])  # block 0 (window) moved; block 1 is global: its input moved
    with torch.no_grad():
        trunk.rel_bias_window.relative_position_bias_table.zero_()
        trunk.rel_bias_global.relative_position_bias_table.normal_()
        moved = trunk.forward_intermediates(x, [0, 1])
    torch.testing.assert_close(moved[0], before[0])  # the window block ignores the global table
    assert not torch.equal(moved[1], before[1])


def test_bias_is_added_to_the_logits():
    torch.manual_seed(0)
    attn = RelPosAttention(8, 2)
    table = SharedRelPosBias((2, 3), 2)
    torch.nn.init.normal_(table.relative_position_bias_table)
    x = torch.randn(1, 2, 3, 8)
    q, k, v = attn.qkv(x).reshape(1, 6, 3, 2, 4).permute(2, 0, 3, 1, 4).unbind(0)
    logits = q @ k.transpose(-1, -2) / 2.0 + table()
    ref = attn.proj((logits.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(1, 2, 3, 8))
    torch.testing.assert_close(attn(x, table()), ref, rtol=1e-5, atol=1e-6)


def test_table_resize_keeps_the_zero_offset_and_constant_tables():
    table = torch.zeros(9, 2)
    table[4] = 1.0  # zero offset of a 2 x 2 map
    big = resize_rel_bias_table(table, (2, 2), (4, 4))
    assert big.shape == (49, 2) and big[24].tolist() == [1.0, 1.0]  # centre of the 7 x 7 offset grid
    flat = resize_rel_bias_table(torch.full((9, 3), 0.5), (2, 2), (7, 7))
    torch.testing.assert_close(flat, torch.full((169, 3), 0.5))


def test_layer_scale_and_tap_rule():
    with torch.device("meta"):
        det = BenchDetOptions(layer_scale=0.1)
        trunk = build_detector(vit_size("vit_base_patch16"), det, 1024).backbone.net
    assert trunk.blocks[0].ls1.gamma.shape == (768,) and trunk.blocks[11].ls2.gamma.shape == (768,)
    assert tap_blocks(4) == (0, 1, 2, 3) and tap_blocks(8) == (1, 3, 5, 7)


def test_random_init_is_beits():
    """trunc-normal(0.02) linears, then block i's attention proj and fc2 divided by sqrt(2 (i + 1))."""
    from vis.detbench.model import build_trunk

    torch.manual_seed(0)
    det = BenchDetOptions(window_size=2, pretrain_img_size=64)
    trunk = build_trunk(ViTOptions(patch_size=16, embed_dim=256, depth=8, num_heads=4), det, 64)
    for i, blk in enumerate(trunk.blocks):
        scale = (2 * (i + 1)) ** 0.5
        assert float(blk.attn.proj.weight.detach().std()) * scale == pytest.approx(0.02, rel=0.05)
        assert float(blk.mlp.fc2.weight.detach().std()) * scale == pytest.approx(0.02, rel=0.05)
        assert float(blk.attn.qkv.weight.detach().std()) == pytest.approx(0.02, rel=0.05)
