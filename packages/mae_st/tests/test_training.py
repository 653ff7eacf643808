"""The tiny recipe through the real commands on real MP4 files: the masked loss falls; the fine-tuned
classifier beats chance (25%) and the same fine-tuning on frame-shuffled clips (which cannot see the
direction of the colour fades); the multi-view test is at least as accurate as one view; the deflated encoder loads
into the image ViT."""

import json

import torch

from vis.core.convert import read_weights
from vis.core.models import VisionTransformer, deflate_patch_weight
from vis.mae_st.cli import test

from .conftest import records


def test_pretraining_loss_falls(runs):
    losses = [r["loss"] for r in records(runs["pre"]) if "loss" in r]
    assert len(losses) >= 4
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.85 * first, losses
    shares = [r["data_wait"] for r in records(runs["pre"]) if "data_wait" in r]
    print(f"pre-training losses {losses}; share of step time waiting for data {shares}")


def top1(out, shapes, views, *extra) -> float:
    ckpt = out / "checkpoints" / "last.pt"
    result = test.run(["--data", shapes, "--checkpoint", ckpt, "--output-dir", out, "--temporal-views", views[0],
                       "--spatial-views", views[1], "--num-workers", "0", *extra])
    saved = json.loads((out / f"test-test-{views[0]}x{views[1]}.json").read_text())
    assert saved["top1"] == result["top1"] and saved["videos"] == 100
    return result["top1"]


def test_finetuned_beats_chance_and_the_frame_shuffled_control_and_multiview_helps(runs, shapes):
    single = top1(runs["ft"], shapes, ("1", "1"))
    multi = top1(runs["ft"], shapes, ("3", "3"))
    control = top1(runs["control"], shapes, ("3", "3"), "--shuffle-frames")
    print(f"test top-1: 1x1 view {single}, 3x3 views {multi}, frame-shuffled control {control}, chance 25")
    assert single > 35  # chance: 25
    assert single > control + 8  # the direction of the fades is learned, not only the colour pair
    assert multi >= single


def test_deflated_encoder_loads_into_the_image_vit(runs):
    sd = {k.removeprefix("encoder."): v for k, v in read_weights(runs["pre"] / "checkpoints" / "last.pt").items()
          if k.startswith("encoder.")}
    image = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=4, num_heads=4, num_classes=0,
                              pos_embed="learned")
    sd2 = {k: v for k, v in sd.items() if not k.startswith("pos_embed")}
    sd2["patch_embed.proj.weight"] = deflate_patch_weight(sd["patch_embed.proj.weight"])
    sd2["pos_embed"] = torch.cat([sd["pos_embed_class"], sd["pos_embed_spatial"]], dim=1)
    image.load_state_dict(sd2, strict=True)
    assert image.features(torch.randn(2, 3, 32, 32)).shape == (2, 64)
