"""Plain backbone files, how one method's pre-training reaches another (MoCo v3 or SimSiam to RCG, ViTDet,
the linear probes): written by save_backbone, rebuilt from their arch record and loaded strictly."""

import pytest
import torch

from vis.core.config import ResNetOptions
from vis.core.convert import load_backbone_file, save_backbone
from vis.core.errors import UserError
from vis.core.models.backbone import build_from_arch, replace_head, resnet_arch
from vis.core.models.heads import mlp_head
from vis.core.models.resnet import resnet
from vis.core.models.vit import VisionTransformer

VIT = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 2, "num_heads": 2, "pos_embed": "sincos",
       "sincos_order": "mocov3", "num_classes": 0}


def test_vit_and_resnet_files_rebuild_the_same_features(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(3, 3, 32, 32)
    vit = VisionTransformer(**VIT).eval()
    net = resnet(18, 8, small_input=True).eval()
    for name, model, arch in (("vit", vit, {"kind": "vit", "kwargs": VIT}),
                              ("resnet", net, resnet_arch(ResNetOptions(18, 8, True)))):
        path = save_backbone(tmp_path / f"{name}.pt", model.state_dict(), arch, source="test")
        torch.testing.assert_close(load_backbone_file(path).eval()(x), model(x), rtol=0, atol=0)


def test_a_projector_is_rebuilt_where_the_classifier_was(tmp_path):
    net = resnet(18, 8, small_input=True)
    replace_head(net, mlp_head([64, 32, 16]))
    arch = resnet_arch(ResNetOptions(18, 8, True)) | {"projector": {"dims": [64, 32, 16], "last_bn": True}}
    path = save_backbone(tmp_path / "p.pt", net.state_dict(), arch, source="test")
    rebuilt = load_backbone_file(path)
    assert rebuilt.fc[3].weight.shape == (16, 32) and not rebuilt.fc[4].affine
    assert build_from_arch({k: v for k, v in arch.items() if k != "projector"}).fc.__class__.__name__ == "Identity"


def test_wrong_files_fail_with_one_line(tmp_path):
    torch.save({"model": {"conv1.weight": torch.zeros(8, 3, 3, 3)}}, tmp_path / "plain.pt")
    with pytest.raises(UserError, match="not a vis backbone file"):
        load_backbone_file(tmp_path / "plain.pt")
    net = resnet(18, 8, small_input=True)
    sd = {k: v for k, v in net.state_dict().items() if k != "layer1.0.conv1.weight"}
    path = save_backbone(tmp_path / "short.pt", sd, resnet_arch(ResNetOptions(18, 8, True)), source="test")
    with pytest.raises(UserError) as e:
        load_backbone_file(path)
    assert "missing layer1.0.conv1.weight" in e.value.line() and len(e.value.line().splitlines()) == 1
