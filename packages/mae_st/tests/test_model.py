"""The MAE-ST model against the reference's numbers (ViT-L 16 x 224: 1568 tokens, 156 kept, 304.5 M
parameters with a 400-class head, 597 GFLOPs per view, 627.5 vs 81.0 GFLOPs per pre-training forward) and
the properties of its objective."""

import pytest
import torch

from vis.core.flops import meta_macs
from vis.core.models import (
    VisionTransformer,
    deflate_patch_weight,
    inflate_patch_weight,
    patchify,
    resize_separable,
    separable_pos,
)
from vis.mae_st.model import MaskedAutoencoderViT3D

LARGE = dict(embed_dim=1024, depth=24, num_heads=16)


def classifier(**kw) -> VisionTransformer:
    return VisionTransformer(img_size=224, patch_size=16, num_frames=16, t_patch_size=2, pos_embed="separable",
                             global_pool="avg", num_classes=400, **{**LARGE, **kw})


def test_vit_large_16x224_parameters_match_the_architecture_and_the_reference():
    with torch.device("meta"):
        model = classifier()
    d, blocks = 1024, 24
    per_block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    expected = (3 * 2 * 16 * 16 * d + d) + d + (196 + 8 + 1) * d + blocks * per_block + 2 * d + (400 * d + 400)
    n = sum(p.numel() for p in model.parameters())
    assert n == expected
    assert abs(n / 304.5e6 - 1) < 0.001  # reference table: 304.5 M (computed)


def test_vit_large_flops_per_view_and_masked_vs_dense_pretraining():
    per_view = meta_macs(classifier, (1, 3, 16, 224, 224)) / 1e9
    assert abs(per_view / 597.3 - 1) < 0.02  # 597 G per view (SlowFast README 598 G)
    build = lambda: MaskedAutoencoderViT3D(**LARGE)
    masked = meta_macs(build, (1, 3, 16, 224, 224)) / 1e9
    dense = meta_macs(build, (1, 3, 16, 224, 224), call=lambda m, x: m.decoder(
        m.encoder.forward_features(x), torch.arange(1568).expand(1, -1), 1)) / 1e9
    assert abs(masked / 81.0 - 1) < 0.02 and abs(dense / 627.5 - 1) < 0.02  # paper Table 1
    assert abs(dense / masked / 7.7 - 1) < 0.03


def test_tokens_kept_targets_and_prediction_shape():
    with torch.device("meta"):
        m = MaskedAutoencoderViT3D(**LARGE)
    assert m.num_patches == 1568 and int(1568 * (1 - m.mask_ratio)) == 156
    small = MaskedAutoencoderViT3D(img_size=32, embed_dim=32, depth=1, num_heads=4)
    assert small.target_frames.tolist() == [0, 2, 4, 6, 8, 10, 12, 15]
    assert m.decoder.decoder_pred.out_features == 768 and len(m.decoder.decoder_blocks) == 4


def tiny(**kw) -> MaskedAutoencoderViT3D:
    torch.manual_seed(0)
    return MaskedAutoencoderViT3D(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=4, num_frames=8,
                                  t_patch_size=2, pred_t_dim=4, decoder_embed_dim=32, decoder_depth=1,
                                  decoder_num_heads=4, **kw)


def test_target_is_one_time_slice_per_token_in_time_major_order():
    m = tiny()
    clips = torch.randn(1, 3, 8, 16, 16)
    target = m.target(clips)  # target frames [0, 2, 4, 7], one per token row of the 4 x 4 x 4 grid
    assert m.target_frames.tolist() == [0, 2, 4, 7] and target.shape == (1, 64, 48)
    t, h, w = 3, 1, 2
    token = target[0, t * 16 + h * 4 + w].view(4, 4, 3)  # (pixel row, pixel col, channel), channels last
    assert torch.equal(token, clips[0, :, 7, 4:8, 8:12].permute(1, 2, 0))
    assert torch.equal(patchify(clips[:, :, [0, 2, 4, 7]], 4, t=1), target)


def test_masking_is_agnostic_and_only_removed_tokens_count():
    m = tiny(mask_ratio=0.75)
    clips = torch.randn(2, 3, 8, 16, 16, requires_grad=True)
    out = m(clips, noise=torch.rand(2, 64))
    assert out["mask"].sum(dim=1).tolist() == [48, 48]
    out["loss"].backward()
    # every input pixel feeds the loss only through the kept tokens and the targets of removed ones
    assert torch.isfinite(clips.grad).all()
    pred = out["pred"].detach().requires_grad_()
    from vis.core.models import masked_mse
    masked_mse(pred, m.target(clips.detach()), out["mask"], True).backward()
    grad = pred.grad.abs().sum(-1)
    assert (grad[out["mask"] == 0] == 0).all() and (grad[out["mask"] == 1] > 0).all()


def test_separable_positions_and_their_interpolation():
    spatial, temporal = torch.randn(1, 16, 8), torch.randn(1, 4, 8)
    table = separable_pos(spatial, temporal)
    assert torch.equal(table[0, 2 * 16 + 5], spatial[0, 5] + temporal[0, 2])
    s2, t2 = resize_separable(spatial, temporal, (6, 6), 8)
    assert s2.shape == (1, 36, 8) and t2.shape == (1, 8, 8)
    s3, t3 = resize_separable(spatial, temporal, (4, 4), 4)
    assert torch.equal(s3, spatial) and torch.equal(t3, temporal)


def test_inflate_and_deflate_between_image_and_video_patch_embeddings():
    image = VisionTransformer(img_size=16, patch_size=4, embed_dim=32, depth=1, num_heads=4, num_classes=0)
    video = VisionTransformer(img_size=16, patch_size=4, embed_dim=32, depth=1, num_heads=4, num_classes=0,
                              num_frames=8, t_patch_size=2, pos_embed="separable")
    w2 = image.patch_embed.proj.weight.detach()
    video.patch_embed.proj.weight.data.copy_(inflate_patch_weight(w2, 2))
    video.patch_embed.proj.bias.data.copy_(image.patch_embed.proj.bias.detach())
    frame = torch.randn(1, 3, 16, 16)
    still = frame.unsqueeze(2).repeat(1, 1, 8, 1, 1)
    tokens3 = video.patch_embed(still).view(1, 4, 16, 32)
    tokens2 = image.patch_embed(frame)
    torch.testing.assert_close(tokens3[:, 2], tokens2, rtol=1e-5, atol=1e-5)  # a still clip = its frame
    torch.testing.assert_close(deflate_patch_weight(inflate_patch_weight(w2, 2)), w2)


@pytest.mark.parametrize("size", ["base", "huge"])
def test_other_sizes_build(size):
    from vis.mae_st.recipes import SIZES

    with torch.device("meta"):
        m = MaskedAutoencoderViT3D(**{k: v for k, v in vars(SIZES[size]).items()})
    assert m.num_patches == 1568
