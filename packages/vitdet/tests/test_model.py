"""The paper's detectors exactly: parameter counts (meta device), trunk / pyramid / head counts, backbone
FLOPs at 1024 px, the window layout, relative-position tables, global-block indices, the pyramid's maps, and
the trunk against timm's VisionTransformerSAM (the same architecture, written independently)."""

import dataclasses

import pytest
import torch

from vis.core.det_train import count, detector_groups
from vis.core.flops import meta_macs
from vis.core.models.vit_det import DetViT, global_block_indices
from vis.core.models.window_attn import rel_pos_table, window_partition, window_unpartition
from vis.vitdet.config import DetectorOptions
from vis.vitdet.model import meta_detector
from vis.vitdet.recipes import det_vit

# reference section 5 (computed): full model, trunk, pyramid (M parameters)
MASK_RCNN = {"b": 110.9, "l": 330.7, "h": 661.2}
CASCADE = {"b": 141.2, "l": 361.0, "h": 691.5}
TRUNK = {"b": 85.9, "l": 303.4, "h": 631.1}
PYRAMID = {"b": 5.56, "l": 7.81, "h": 10.64}


@pytest.mark.parametrize("size", ["b", "l", "h"])
def test_parameter_counts(size):
    mrcnn = meta_detector(det_vit(size), DetectorOptions())
    cascade = meta_detector(det_vit(size), DetectorOptions(cascade=True))
    assert count(mrcnn) / 1e6 == pytest.approx(MASK_RCNN[size], rel=0.005)
    assert count(cascade) / 1e6 == pytest.approx(CASCADE[size], rel=0.005)
    assert count(mrcnn.backbone.net) / 1e6 == pytest.approx(TRUNK[size], abs=0.05)
    assert (count(mrcnn.backbone) - count(mrcnn.backbone.net)) / 1e6 == pytest.approx(PYRAMID[size], abs=0.005)
    assert count(mrcnn.rpn) / 1e6 == pytest.approx(1.18, abs=0.005)
    assert count(mrcnn.roi_heads) / 1e6 == pytest.approx(18.27, abs=0.005)


def test_backbone_flops_at_1024():
    """Trunk 0.483 T and trunk + pyramid 0.555 T multiply-adds for ViT-B (reference, computed with fvcore)."""
    vit, det = det_vit("b"), DetectorOptions()
    trunk = meta_macs(lambda: meta_detector(vit, det).backbone.net, (1, 3, 1024, 1024))
    both = meta_macs(lambda: meta_detector(vit, det).backbone, (1, 3, 1024, 1024))
    assert trunk / 1e12 == pytest.approx(0.483, rel=0.05)
    assert both / 1e12 == pytest.approx(0.555, rel=0.05)


def test_global_blocks_windows_and_rel_pos_tables():
    assert global_block_indices(12) == (2, 5, 8, 11)
    assert global_block_indices(24) == (5, 11, 17, 23)
    assert global_block_indices(32) == (7, 15, 23, 31)
    windows, padded = window_partition(torch.zeros(1, 64, 64, 8), 14)
    assert windows.shape == (25, 14, 14, 8) and padded == (70, 70)
    with torch.device("meta"):
        trunk = DetViT()
    assert [b.window_size for b in trunk.blocks] == [14, 14, 0] * 4
    assert trunk.blocks[0].attn.rel_pos_h.shape == (27, 64) and trunk.blocks[2].attn.rel_pos_w.shape == (127, 64)
    assert trunk.pos_embed.shape == (1, 197, 768)


def test_window_padding_round_trip_on_a_15x15_grid():
    x = torch.randn(2, 15, 15, 3)
    windows, padded = window_partition(x, 8)
    assert windows.shape == (8, 8, 8, 3) and padded == (16, 16)
    assert (windows[1, :, 7] == 0).all()  # the right column of the top-right window is padding
    torch.testing.assert_close(window_unpartition(windows, 8, padded, (15, 15)), x, rtol=0, atol=0)


def test_rel_pos_table_interpolates_linearly():
    table = torch.arange(5.0)[:, None].repeat(1, 2)  # 2 * 3 - 1 rows
    torch.testing.assert_close(rel_pos_table(3, 3, table)[:, :, 0], torch.tensor([[2.0, 1, 0], [3, 2, 1], [4, 3, 2]]))
    stretched = rel_pos_table(5, 5, table)[:, :, 0]  # 9 rows from 5: linear in between
    assert stretched[0, 0] == pytest.approx(2.0, abs=0.3) and stretched[4, 0] > stretched[0, 0] > stretched[0, 4]


def test_trunk_matches_timm_sam_vit():
    """timm's VisionTransformerSAM with the same options is an independent implementation of this trunk
    (window partition with padding, decomposed rel-pos through SDPA): with the same weights (our position
    table reshaped to its NHWC layout) its blocks give the same map."""
    from timm.models.vision_transformer_sam import VisionTransformerSAM

    torch.manual_seed(0)
    ours = DetViT(img_size=64, patch_size=16, embed_dim=32, depth=2, num_heads=2, window_size=2, global_blocks=[1],
                  pretrain_img_size=64, pretrain_use_cls_token=False).eval()
    for b in ours.blocks:
        torch.nn.init.normal_(b.attn.rel_pos_h, std=0.5)
        torch.nn.init.normal_(b.attn.rel_pos_w, std=0.5)
    sam = VisionTransformerSAM(img_size=64, patch_size=16, embed_dim=32, depth=2, num_heads=2, window_size=2,
                               global_attn_indexes=(1,), use_rel_pos=True, neck_chans=0, num_classes=0,
                               global_pool="", head_hidden_size=None, use_abs_pos=True).eval()
    sd = {k: v for k, v in ours.state_dict().items()}
    sd["pos_embed"] = sd["pos_embed"].reshape(1, 4, 4, 32)
    missing, unexpected = sam.load_state_dict(sd, strict=False)
    assert not unexpected and all(k.startswith("neck") for k in missing), missing  # SAM's neck LN, not used
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        theirs = sam.blocks(sam.patch_embed(x) + sam.pos_embed).permute(0, 3, 1, 2)
        torch.testing.assert_close(ours(x), theirs, rtol=1e-4, atol=1e-4)


def test_layer_decay_and_weight_decay_groups():
    det = DetectorOptions(window_size=2, global_blocks=[1], pretrain_img_size=32, head_channels=16, fc_dim=32,
                          num_classes=2)
    from vis.core.config import ViTOptions
    from vis.vitdet.model import build_detector

    model = build_detector(ViTOptions(patch_size=16, embed_dim=32, depth=2, num_heads=2), det, 64)
    groups = detector_groups(model, 0.1, 0.7, vit_norm_no_decay=True)
    by_name = {n: g for g in groups for n in g["names"]}
    assert by_name["backbone.net.pos_embed"]["lr_scale"] == pytest.approx(0.7**3)
    assert by_name["backbone.net.pos_embed"]["weight_decay"] == 0.0
    assert by_name["backbone.net.blocks.0.norm1.weight"]["weight_decay"] == 0.0
    assert by_name["backbone.net.blocks.0.attn.qkv.bias"]["weight_decay"] == 0.1  # biases decayed
    assert by_name["backbone.net.blocks.1.attn.rel_pos_h"]["lr_scale"] == pytest.approx(0.7)
    assert by_name["backbone.stages.0.2.weight"]["weight_decay"] == 0.1  # channel LN of the pyramid decayed
    assert by_name["roi_heads.box_predictor.cls_score.weight"]["lr_scale"] == 1.0
    assert all(g["weight_decay"] == 0.1 for g in detector_groups(model, 0.1, 0.9, vit_norm_no_decay=False))


def test_presets_follow_the_paper():
    from vis.vitdet.recipes import TRAIN_RECIPES

    b, h = TRAIN_RECIPES["mask-rcnn-vit-b-100ep"](), TRAIN_RECIPES["cascade-mask-rcnn-vit-h-75ep"]()
    assert (b.epochs, b.lr, b.weight_decay, b.layer_decay, b.det.drop_path) == (100, 1e-4, 0.1, 0.7, 0.1)
    assert b.img_size == 1024
    assert b.batch_size * b.launch.nodes * b.launch.gpus_per_node == 64 and b.scale_range == (0.1, 2.0)
    assert (h.epochs, h.layer_decay, h.det.drop_path, h.det.cascade, h.vit_norm_no_decay) == (75, 0.9, 0.5, True, False)
    assert dataclasses.asdict(h.vit) == {"patch_size": 16, "embed_dim": 1280, "depth": 32, "num_heads": 16}


@pytest.mark.parametrize("patch", [8, 16])
def test_pyramid_levels_sit_at_the_strides_the_roi_heads_pool_at(patch):
    """p2..p6 at strides 4..64 whatever the trunk's patch (stride): RoIAlign uses fixed 1/4..1/32 scales, so a
    stride-8 trunk with the paper's 4 / 2 / 1 / 0.5 scales would pool every RoI from the wrong place."""
    from vis.vitdet.pyramid import SimpleFeaturePyramid

    trunk = lambda x: torch.zeros(x.shape[0], 16, x.shape[2] // patch, x.shape[3] // patch)
    out = SimpleFeaturePyramid(trunk, 16, 8, stride=patch)(torch.zeros(1, 3, 128, 128))
    assert {k: v.shape[-1] for k, v in out.items()} == {"p2": 32, "p3": 16, "p4": 8, "p5": 4, "p6": 2}
