import pytest
import torch

from vis.core.convert import save_backbone
from vis.core.models.backbone import build_from_arch

# the tiny MoCo v3 encoder of vis-mocov3's tiny recipe (ViT patch 4, 64-d x 4 blocks, projector 64 -> 256 ->
# 256 -> 64), as `mocov3-export --keep-projector` writes it
TINY_ARCH = {"kind": "vit", "kwargs": {"img_size": 32, "patch_size": 4, "embed_dim": 64, "depth": 4, "num_heads": 4,
                                       "conv_stem": False, "pos_embed": "sincos", "sincos_order": "mocov3",
                                       "num_classes": 0},
             "projector": {"dims": [64, 256, 256, 64], "last_bn": True}}


def random_encoder(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_from_arch(TINY_ARCH)
    for m in model.modules():  # BN statistics of a trained projector, not the fresh 0 / 1
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    return model


@pytest.fixture(scope="session")
def encoder_file(tmp_path_factory):
    """A randomly initialised tiny MoCo v3 encoder with its projector, as a backbone file."""
    path = tmp_path_factory.mktemp("encoder") / "projector.pt"
    save_backbone(path, random_encoder().state_dict(), TINY_ARCH, source="random init (tests)")
    return path


@pytest.fixture
def tiny_encoder():
    """(the arch record of the tiny encoder, a function building it with random weights)."""
    return TINY_ARCH, random_encoder
