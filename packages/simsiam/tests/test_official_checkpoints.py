"""Official SimSiam files (the key layout of reference section 3 items 13-14, written out here from the
torchvision ResNet naming) load strictly: into a whole SimSiam model, and into a backbone for linear
probing; files of another kind fail with one line."""

import pytest
import torch

from vis.core.convert import read_weights
from vis.core.errors import UserError
from vis.core.models.resnet import resnet
from vis.core.testing import bn_shapes, state_from_shapes
from vis.simsiam.convert import load_backbone, load_simsiam
from vis.simsiam.model import SimSiam


def resnet_shapes(layers=(3, 4, 6, 3), width=64, bottleneck=True) -> dict[str, tuple]:
    """torchvision ResNet keys (no fc): conv1/bn1, layer{1-4}.{i}.conv{1,2[,3]}/bn*, downsample.{0,1}."""
    s = {"conv1.weight": (width, 3, 7, 7), **bn_shapes("bn1", width)}
    exp, c_in = (4 if bottleneck else 1), width
    for stage, n in enumerate(layers):
        w = width * 2**stage
        for i in range(n):
            p = f"layer{stage + 1}.{i}"
            convs = [(w, c_in, 1), (w, w, 3), (w * exp, w, 1)] if bottleneck else [(w, c_in, 3), (w, w, 3)]
            for j, (o, ci, k) in enumerate(convs, 1):
                s |= {f"{p}.conv{j}.weight": (o, ci, k, k), **bn_shapes(f"{p}.bn{j}", o)}
            if i == 0 and (stage > 0 or c_in != w * exp):
                s |= {f"{p}.downsample.0.weight": (w * exp, c_in, 1, 1), **bn_shapes(f"{p}.downsample.1", w * exp)}
            c_in = w * exp
    return s


def official_shapes(feat=2048, dim=2048, pred=512, **kw) -> dict[str, tuple]:
    """checkpoint_0099.pth.tar's state_dict: module.encoder.* with the projector at fc.{0,1,3,4,6,7} (fc.6
    is the re-used torchvision fc with its bias; fc.7 a BN without affine) and module.predictor.{0,1,3}."""
    s = {f"module.encoder.{k}": v for k, v in resnet_shapes(**kw).items()}
    s |= {"module.encoder.fc.0.weight": (feat, feat), **bn_shapes("module.encoder.fc.1", feat),
          "module.encoder.fc.3.weight": (feat, feat), **bn_shapes("module.encoder.fc.4", feat),
          "module.encoder.fc.6.weight": (dim, feat), "module.encoder.fc.6.bias": (dim,)}
    s |= bn_shapes("module.encoder.fc.7", dim, affine=False)
    s |= {"module.predictor.0.weight": (pred, dim), **bn_shapes("module.predictor.1", pred),
          "module.predictor.3.weight": (dim, pred), "module.predictor.3.bias": (dim,)}
    return s


def official_state(**kw) -> dict[str, torch.Tensor]:
    return state_from_shapes(official_shapes(**kw))


@pytest.fixture(scope="module")
def r50_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "checkpoint_0099.pth.tar"
    sd = official_state()
    torch.save({"epoch": 100, "arch": "resnet50", "state_dict": sd, "optimizer": {}}, path)
    return path, sd


def test_official_file_loads_strictly_into_a_whole_simsiam_model(r50_file):
    path, sd = r50_file
    model = SimSiam()
    load_simsiam(model, read_weights(path), str(path))
    own = model.state_dict()
    assert len(own) == len(sd) and all(torch.equal(own[k.removeprefix("module.")], v) for k, v in sd.items())
    assert not model.encoder.fc[6].bias.requires_grad  # still frozen after loading
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 38_199_360


def test_official_file_into_a_backbone_drops_only_the_projector(r50_file):
    path, sd = r50_file
    plain = resnet(50)  # fc = Identity, as the linear probe builds it
    assert load_backbone(plain, read_weights(path), str(path)) == []
    assert torch.equal(plain.layer4[2].conv3.weight, sd["module.encoder.layer4.2.conv3.weight"])
    with_fc = resnet(50, num_classes=1000)  # torchvision's model: reference item 14
    assert load_backbone(with_fc, read_weights(path), str(path)) == ["fc.bias", "fc.weight"]


def test_a_missing_key_is_named(tmp_path):
    sd = official_state(layers=(2, 2, 2, 2), width=8, bottleneck=False, feat=64, dim=64, pred=16)
    del sd["module.encoder.layer3.1.conv2.weight"]
    with pytest.raises(UserError, match="missing layer3.1.conv2.weight"):
        load_backbone(resnet(18, 8), sd, "x.pth")


@pytest.mark.parametrize("keys,what", [
    ({"blocks.0.attn.qkv.weight": (192, 64), "cls_token": (1, 1, 64)}, "MAE"),
    ({"encoder.blocks.0.attn.qkv.weight": (192, 64), "decoder.mask_token": (1, 1, 64)}, "vis MAE"),
    ({"module.base_encoder.conv1.weight": (8, 3, 7, 7), "module.predictor.0.weight": (8, 8)}, "MoCo v3"),
])
def test_files_of_another_kind_fail_with_one_line(keys, what):
    sd = {k: torch.zeros(s) for k, s in keys.items()}
    for load, model in ((load_backbone, resnet(18, 8)), (load_simsiam, SimSiam(18, 8, dim=16, pred_dim=4))):
        with pytest.raises(UserError) as e:
            load(model, sd, f"{what}.pth")
        line = e.value.line()
        assert "not a SimSiam checkpoint" in line and len(line.splitlines()) == 1, what
