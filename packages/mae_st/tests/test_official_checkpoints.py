"""Released MAE-ST weights, in both key layouts the reference lists (mae_st .pth: `model` + argparse `args`,
split q / k / v; PySlowFast .pyth: `model_state` + YAML `cfg`, fused qkv), load strictly: every key lands
where it belongs, the architecture comes from the weights (not from the file's wrong argparse defaults),
and a pre-training file given to maest-test is refused in one line."""

import argparse

import pytest
import torch

from vis.core.errors import UserError
from vis.mae_st.convert import load_video_classifier, load_video_mae, read_video_weights
from vis.mae_st.finetune import build_classifier
from vis.mae_st.model import MaskedAutoencoderViT3D

D, DEPTH, DEC = 64, 2, 32


def official_mae_st(head: bool) -> dict[str, torch.Tensor]:
    """mae_st's key layout (reference 3.22) at a tiny size: 2 x 8 x 8 patches of 16-frame 32 px clips."""
    torch.manual_seed(0)
    sd = {"cls_token": (1, 1, D), "pos_embed_spatial": (1, 16, D), "pos_embed_temporal": (1, 8, D),
          "pos_embed_class": (1, 1, D), "patch_embed.proj.weight": (D, 3, 2, 8, 8), "patch_embed.proj.bias": (D,)}
    blocks = lambda p, d: {f"{p}.norm1.weight": (d,), f"{p}.norm1.bias": (d,), **{
        f"{p}.attn.{x}.{k}": (d, d) if k == "weight" else (d,) for x in "qkv" for k in ("weight", "bias")},
        f"{p}.attn.proj.weight": (d, d), f"{p}.attn.proj.bias": (d,), f"{p}.norm2.weight": (d,),
        f"{p}.norm2.bias": (d,), f"{p}.mlp.fc1.weight": (4 * d, d), f"{p}.mlp.fc1.bias": (4 * d,),
        f"{p}.mlp.fc2.weight": (d, 4 * d), f"{p}.mlp.fc2.bias": (d,)}
    for i in range(DEPTH):
        sd |= blocks(f"blocks.{i}", D)
    sd |= {"norm.weight": (D,), "norm.bias": (D,)}
    if head:
        sd |= {"head.weight": (4, D), "head.bias": (4,)}
    else:
        sd |= {"mask_token": (1, 1, DEC), "decoder_cls_token": (1, 1, DEC), "decoder_pos_embed_spatial": (1, 16, DEC),
               "decoder_pos_embed_temporal": (1, 8, DEC), "decoder_pos_embed_class": (1, 1, DEC),
               "decoder_embed.weight": (DEC, D), "decoder_embed.bias": (DEC,), **blocks("decoder_blocks.0", DEC),
               "decoder_norm.weight": (DEC,), "decoder_norm.bias": (DEC,), "decoder_pred.weight": (192, DEC),
               "decoder_pred.bias": (192,)}
    return {k: torch.randn(s) for k, s in sd.items()}


def save(tmp_path, name, state):
    path = tmp_path / name
    torch.save(state, path)
    return path


class Cfg:  # what build_classifier reads
    def __init__(self, info):
        from vis.core.config import ViTOptions
        from vis.mae_st.config import ClipOptions

        self.input_size = 32
        self.vit = ViTOptions(info["patch_size"], info["embed_dim"], info["depth"], 4)
        self.clip = ClipOptions(num_frames=info["num_frames"], t_patch_size=info["t_patch_size"])


def test_mae_st_finetuned_file_loads_strictly_with_fused_qkv_and_post_pool_norm(tmp_path):
    sd = official_mae_st(head=True)
    # the released defaults are wrong (mae_st#13): args say 32 frames and t-patch 4; the weights say 16 and 2
    args = argparse.Namespace(num_frames=32, t_patch_size=4, sampling_rate=4, model="vit_large_patch16")
    path = save(tmp_path, "ft.pth", {"model": sd, "args": args, "epoch": 49})
    weights, info = read_video_weights(path)
    assert (info["num_frames"], info["t_patch_size"], info["patch_size"], info["depth"]) == (16, 2, 8, DEPTH)
    assert info["sampling_rate"] == 4
    model = build_classifier(Cfg(info), 4)
    assert load_video_classifier(model, weights, str(path), need_head=True) == []
    own = model.state_dict()
    q, k, v = (sd[f"blocks.1.attn.{x}.weight"] for x in "qkv")
    assert torch.equal(own["blocks.1.attn.qkv.weight"], torch.cat([q, k, v]))
    assert torch.equal(own["fc_norm.weight"], sd["norm.weight"])  # mae_st's norm after the mean pool
    assert torch.equal(own["pos_embed_temporal"], sd["pos_embed_temporal"])
    # the model computes with them: x -> patch tokens + separable positions -> blocks -> mean -> norm -> head
    model.eval()
    assert model(torch.randn(2, 3, 16, 32, 32)).shape == (2, 4)


def test_pyslowfast_pretrain_file_loads_into_the_autoencoder_and_the_classifier(tmp_path):
    sd = official_mae_st(head=False)
    fused = read_video_weights(save(tmp_path, "a.pth", {"model": sd}))[0]
    path = save(tmp_path, "VIT_B_16x4_MAE_PT.pyth", {"model_state": fused, "epoch": 400,
                                                     "cfg": "DATA:\n  NUM_FRAMES: 16\n  SAMPLING_RATE: 4\n"})
    weights, info = read_video_weights(path)
    assert info["sampling_rate"] == 4 and not info["classifier"]
    mae = MaskedAutoencoderViT3D(img_size=32, patch_size=8, embed_dim=D, depth=DEPTH, num_heads=4,
                                 decoder_embed_dim=DEC, decoder_depth=1, decoder_num_heads=4)
    load_video_mae(mae, weights, str(path))
    assert torch.equal(mae.state_dict()["decoder.decoder_cls_token"], sd["decoder_cls_token"])
    clf = build_classifier(Cfg(info), 4)
    fresh = load_video_classifier(clf, weights, str(path))
    assert fresh == ["fc_norm.bias", "fc_norm.weight", "head.bias", "head.weight"]
    with pytest.raises(UserError, match="pre-trained weights without a classifier head"):
        load_video_classifier(clf, weights, str(path), need_head=True)


def test_wrong_kind_and_missing_keys_are_one_line_errors(tmp_path):
    image = save(tmp_path, "mae_pretrain_vit_base.pth", {"model": {"patch_embed.proj.weight": torch.zeros(8, 3, 4, 4),
                                                                   "pos_embed": torch.zeros(1, 5, 8)}})
    with pytest.raises(UserError, match="not a video ViT checkpoint"):
        read_video_weights(image)
    sd = official_mae_st(head=True)
    del sd["blocks.0.mlp.fc1.bias"]
    weights, info = read_video_weights(save(tmp_path, "broken.pth", {"model": sd}))
    with pytest.raises(UserError, match="missing blocks.0.mlp.fc1.bias"):
        load_video_classifier(build_classifier(Cfg(info), 4), weights, "broken.pth")


def test_positions_are_interpolated_to_another_input_size(tmp_path):
    weights, info = read_video_weights(save(tmp_path, "ft.pth", {"model": official_mae_st(head=True)}))
    cfg = Cfg(info)
    cfg.input_size = 48
    model = build_classifier(cfg, 4)
    load_video_classifier(model, weights, "ft.pth", need_head=True)
    assert model.pos_embed_spatial.shape == (1, 36, D)
