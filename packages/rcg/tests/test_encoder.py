"""Stage 0: the representation encoder reads MoCo v3 files through vis-core (never vis-mocov3), keeps the
projector, resizes bicubically, standardises each vector and stays frozen in eval mode."""

import pytest
import torch
import torch.nn.functional as F

from vis.core import checkpoint as ckpt
from vis.core.convert import save_backbone
from vis.core.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from vis.core.errors import UserError
from vis.rcg.encoder import load_encoder, standardize


def test_representation_is_the_standardised_projector_output(encoder_file, tiny_encoder):
    _, random_encoder = tiny_encoder
    enc = load_encoder(str(encoder_file))
    assert enc.rep_dim == 64
    images = torch.rand(5, 3, 16, 16)
    reps = enc(images)
    assert torch.allclose(reps.mean(-1), torch.zeros(5), atol=1e-5)
    assert torch.allclose(reps.std(-1), torch.ones(5), atol=1e-5)
    # by hand: bicubic resize to the encoder's 32 px, ImageNet normalisation, backbone + projector
    ref = random_encoder().eval()
    x = F.interpolate(images, size=(32, 32), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(reps, standardize(ref(x)), atol=1e-5)
    bilinear = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    bilinear = (bilinear - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert not torch.allclose(reps, standardize(ref(bilinear)), atol=1e-4)


def test_encoder_stays_frozen_and_in_eval_mode(encoder_file):
    enc = load_encoder(str(encoder_file))
    enc.train()
    assert not enc.training and not enc.backbone.training
    assert not any(p.requires_grad for p in enc.parameters())
    x = torch.rand(4, 3, 32, 32)
    assert torch.allclose(enc(x[:2]), enc(x)[:2], atol=1e-5)  # BN running statistics, not batch statistics


def test_reads_a_mocov3_pretrain_checkpoint_layout(tmp_path, tiny_encoder):
    """vis mocov3-pretrain: config with vit / input_size, weights base_encoder.* (with head), momentum_encoder.*,
    predictor.*; the official file is the same under module. with an `arch` name."""
    TINY_ARCH, random_encoder = tiny_encoder
    model = random_encoder()
    sd = {f"base_encoder.{k}": v for k, v in model.state_dict().items()}
    sd.update({f"momentum_encoder.{k}": v.clone() for k, v in model.state_dict().items()})
    sd["predictor.0.weight"] = torch.zeros(256, 64)
    kw = TINY_ARCH["kwargs"]
    cfg = {"arch": "vit", "input_size": 32, "conv_stem": False, "temperature": 0.2,
           "vit": {k: kw[k] for k in ("patch_size", "embed_dim", "depth", "num_heads")}}
    ckpt.save_atomic({"model": sd, "config": cfg}, tmp_path / "last.pt")
    enc = load_encoder(str(tmp_path / "last.pt"))
    ref = load_encoder_from_backbone(tmp_path, model, TINY_ARCH)
    x = torch.rand(3, 3, 32, 32)
    assert torch.equal(enc(x), ref(x))
    official = {f"module.{k}": v for k, v in sd.items()}
    ckpt.save_atomic({"state_dict": official, "arch": "vit_tiny_nonexistent"}, tmp_path / "official.pth.tar")
    with pytest.raises(UserError, match="not a MoCo v3 ViT checkpoint"):
        load_encoder(str(tmp_path / "official.pth.tar"))


def load_encoder_from_backbone(tmp_path, model, arch):
    save_backbone(tmp_path / "b.pt", model.state_dict(), arch, source="test")
    return load_encoder(str(tmp_path / "b.pt"))


def test_wrong_files_fail_with_one_line(tmp_path, tiny_encoder):
    TINY_ARCH, random_encoder = tiny_encoder
    model = random_encoder()
    no_head = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    arch = {k: v for k, v in TINY_ARCH.items() if k != "projector"}
    save_backbone(tmp_path / "noproj.pt", no_head, arch, source="test")
    with pytest.raises(UserError, match="no ViT projector"):
        load_encoder(str(tmp_path / "noproj.pt"))
    ckpt.save_atomic({"model": {"encoder.cls_token": torch.zeros(1, 1, 8)}}, tmp_path / "mae.pt")
    with pytest.raises(UserError, match="not a MoCo v3"):
        load_encoder(str(tmp_path / "mae.pt"))
    broken = dict(model.state_dict())
    broken.pop("head.0.weight")
    save_backbone(tmp_path / "broken.pt", broken, TINY_ARCH, source="test")
    with pytest.raises(UserError, match="does not fit"):
        load_encoder(str(tmp_path / "broken.pt"))
