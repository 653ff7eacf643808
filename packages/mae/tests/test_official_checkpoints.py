"""Official MAE checkpoint files (key names and shapes as released) load through the user's paths."""

import argparse

import pytest
import torch

from vis.core.config import vit_size
from vis.core.convert import load_vit_from_mae, read_weights
from vis.core.errors import UserError
from vis.core.models import VisionTransformer
from vis.core.testing import state_from_shapes
from vis.mae.cli import finetune, visualize
from vis.mae.config import DecoderOptions, VisualizeConfig
from vis.mae.visualize import load_mae


def block_shapes(prefix: str, d: int) -> dict[str, tuple]:
    return {
        f"{prefix}.norm1.weight": (d,), f"{prefix}.norm1.bias": (d,),
        f"{prefix}.attn.qkv.weight": (3 * d, d), f"{prefix}.attn.qkv.bias": (3 * d,),
        f"{prefix}.attn.proj.weight": (d, d), f"{prefix}.attn.proj.bias": (d,),
        f"{prefix}.norm2.weight": (d,), f"{prefix}.norm2.bias": (d,),
        f"{prefix}.mlp.fc1.weight": (4 * d, d), f"{prefix}.mlp.fc1.bias": (4 * d,),
        f"{prefix}.mlp.fc2.weight": (d, 4 * d), f"{prefix}.mlp.fc2.bias": (d,),
    }


def official_shapes(kind: str, d=768, depth=12, p=16, grid=14, dec=512, dec_depth=8, classes=1000):
    """Keys and shapes of mae_pretrain_vit_*.pth ("pretrain"), mae_visualize_vit_*.pth ("full") and
    mae_finetuned_vit_*.pth ("finetuned"), written out from the released files' layout."""
    n = grid * grid + 1
    s = {"cls_token": (1, 1, d), "pos_embed": (1, n, d), "patch_embed.proj.weight": (d, 3, p, p),
         "patch_embed.proj.bias": (d,)}
    for i in range(depth):
        s |= block_shapes(f"blocks.{i}", d)
    if kind == "finetuned":
        s |= {"fc_norm.weight": (d,), "fc_norm.bias": (d,), "head.weight": (classes, d), "head.bias": (classes,)}
    else:
        s |= {"norm.weight": (d,), "norm.bias": (d,)}
    if kind == "full":
        s |= {"mask_token": (1, 1, dec), "decoder_embed.weight": (dec, d), "decoder_embed.bias": (dec,),
              "decoder_pos_embed": (1, n, dec), "decoder_norm.weight": (dec,), "decoder_norm.bias": (dec,),
              "decoder_pred.weight": (p * p * 3, dec), "decoder_pred.bias": (p * p * 3,)}
        for i in range(dec_depth):
            s |= block_shapes(f"decoder_blocks.{i}", dec)
    return s


def official_file(path, kind, **kw):
    sd = state_from_shapes(official_shapes(kind, **kw))
    args = argparse.Namespace(model="mae_vit_base_patch16", norm_pix_loss=True, blr=1.5e-4)  # as the originals
    torch.save({"model": sd, "args": args, "epoch": 799}, path)
    return sd


@pytest.fixture(scope="module")
def vit_b_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("official")
    return {k: (d / f"{k}.pth", official_file(d / f"{k}.pth", k)) for k in ("pretrain", "full", "finetuned")}


def vit_b(**kw):
    return VisionTransformer.from_name("vit_base_patch16", pos_embed="sincos_trainable", **kw)


def test_encoder_only_file_into_a_fine_tuning_model(vit_b_files):
    path, sd = vit_b_files["pretrain"]
    model = vit_b(num_classes=1000, global_pool="avg")
    fresh = load_vit_from_mae(model, read_weights(path), str(path))
    assert fresh == ["fc_norm.bias", "fc_norm.weight", "head.bias", "head.weight"]
    own = model.state_dict()
    for k in ("pos_embed", "blocks.11.mlp.fc2.weight", "patch_embed.proj.weight"):
        assert torch.equal(own[k], sd[k])
    assert model.pos_embed.requires_grad  # the loaded table trains in fine-tuning


def test_position_table_is_interpolated_to_another_resolution(vit_b_files):
    path, sd = vit_b_files["pretrain"]
    model = vit_b(img_size=448, num_classes=10, global_pool="avg")
    load_vit_from_mae(model, read_weights(path), str(path))
    assert model.pos_embed.shape == (1, 1 + 28 * 28, 768)
    assert torch.equal(model.pos_embed[:, 0], sd["pos_embed"][:, 0])


def test_finetuned_file_loads_completely_or_drops_a_head_of_another_size(vit_b_files):
    path, sd = vit_b_files["finetuned"]
    same = vit_b(num_classes=1000, global_pool="avg")
    assert load_vit_from_mae(same, read_weights(path), str(path)) == []
    assert torch.equal(same.head.weight, sd["head.weight"])
    other = vit_b(num_classes=10, global_pool="avg")
    assert load_vit_from_mae(other, read_weights(path), str(path)) == ["head.bias", "head.weight"]


def test_full_visualize_file_loads_encoder_and_decoder_strictly(vit_b_files):
    path, sd = vit_b_files["full"]
    cfg = VisualizeConfig(checkpoint=str(path), vit=vit_size("vit_base_patch16"),
                          decoder=DecoderOptions(512, 8, 16), input_size=224, norm_pix_loss=False)
    model = load_mae(cfg, str(path))
    assert torch.equal(model.decoder.mask_token, sd["mask_token"])
    assert torch.equal(model.decoder.decoder_pred.weight, sd["decoder_pred.weight"])
    assert torch.equal(model.encoder.blocks[3].attn.qkv.weight, sd["blocks.3.attn.qkv.weight"])


def test_encoder_only_file_is_refused_for_visualization(vit_b_files):
    path, _ = vit_b_files["pretrain"]
    cfg = VisualizeConfig(checkpoint=str(path), vit=vit_size("vit_base_patch16"), input_size=224)
    with pytest.raises(UserError, match="no decoder"):
        load_mae(cfg, str(path))


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    sd = official_file(tmp_path / "x.pth", "pretrain", d=64, depth=2, p=8, grid=4)
    del sd["blocks.1.attn.qkv.weight"]
    sd["blocks.7.extra"] = torch.zeros(1)
    model = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4, num_classes=0)
    with pytest.raises(UserError) as e:
        load_vit_from_mae(model, sd, "x.pth")
    assert "missing blocks.1.attn.qkv.weight" in str(e.value) and "unexpected blocks.7.extra" in str(e.value)


TINY_ARCH = ["--patch-size", "4", "--embed-dim", "64", "--depth", "4", "--num-heads", "4"]


def test_official_layout_files_through_the_entry_points(tmp_path, in_process):
    enc = tmp_path / "mae_pretrain_tiny.pth"
    official_file(enc, "pretrain", d=64, depth=4, p=4, grid=8)
    _, out = in_process(finetune.run, "--recipe", "tiny", "--finetune", enc, "--epochs", "1", "--warmup-epochs",
                        "0", "--stop-after-steps", "1", "--output-dir", tmp_path / "ft")
    assert "initialised here: fc_norm.bias, fc_norm.weight, head.bias, head.weight" in out
    full = tmp_path / "mae_visualize_tiny.pth"
    official_file(full, "full", d=64, depth=4, p=4, grid=8, dec=64, dec_depth=2)
    in_process(visualize.run, "--recipe", "tiny", "--checkpoint", full, "--decoder-embed-dim", "64",
               "--decoder-depth", "2", "--decoder-num-heads", "4", *TINY_ARCH, "--num-samples", "2",
               "--output-dir", tmp_path / "vis")
    assert (tmp_path / "vis" / "visualize-seed0.png").is_file()
