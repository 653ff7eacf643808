"""Official MoCo v3 pre-training files (key layout of reference section 3, items 20-22) load strictly into
the whole model and into a plain backbone; files of another kind are refused with one line."""

import pytest
import torch
import torchvision

from vis.core.config import ResNetOptions, ViTOptions
from vis.core.convert import load_backbone_file
from vis.core.errors import UserError
from vis.core.testing import bn_shapes, state_from_shapes
from vis.mocov3.cli import export, linprobe
from vis.mocov3.config import official_vit
from vis.mocov3.convert import load_backbone, load_pretrain
from vis.mocov3.model import MoCoV3, build_encoder


def vit_backbone(d: int, depth: int, p: int, grid: int) -> dict[str, tuple]:
    """timm VisionTransformer keys (item 20): cls_token, pos_embed, patch_embed.proj.*, blocks.i.*, norm.*."""
    s = {"cls_token": (1, 1, d), "pos_embed": (1, grid * grid + 1, d), "patch_embed.proj.weight": (d, 3, p, p),
         "patch_embed.proj.bias": (d,)}
    for i in range(depth):
        b = f"blocks.{i}"
        s |= {f"{b}.norm1.weight": (d,), f"{b}.norm1.bias": (d,), f"{b}.attn.qkv.weight": (3 * d, d),
              f"{b}.attn.qkv.bias": (3 * d,), f"{b}.attn.proj.weight": (d, d), f"{b}.attn.proj.bias": (d,),
              f"{b}.norm2.weight": (d,), f"{b}.norm2.bias": (d,), f"{b}.mlp.fc1.weight": (4 * d, d),
              f"{b}.mlp.fc1.bias": (4 * d,), f"{b}.mlp.fc2.weight": (d, 4 * d), f"{b}.mlp.fc2.bias": (d,)}
    return s | {"norm.weight": (d,), "norm.bias": (d,)}


def resnet50_backbone() -> dict[str, tuple]:
    """torchvision's ResNet-50 names (item 20: the R-50 base encoder is torchvision's, fc replaced)."""
    with torch.device("meta"):
        sd = torchvision.models.resnet50().state_dict()
    return {k: tuple(v.shape) for k, v in sd.items() if not k.startswith("fc.")}


def official_layout(arch: str, d=384, depth=12, p=16, grid=14, mlp=4096, dim=256) -> dict[str, tuple]:
    """module.{base_encoder, momentum_encoder}.* (backbone + projector head.{0,1,3,4,6,7} / fc.{0,1,3,4})
    and module.predictor.{0,1,3,4} (ViT) / {0,1,3} (R-50), items 5-8 and 20."""
    if arch == "vit":
        enc = vit_backbone(d, depth, p, grid) | {"head.0.weight": (mlp, d), "head.3.weight": (mlp, mlp),
                                                 "head.6.weight": (dim, mlp)}
        enc |= bn_shapes("head.1", mlp) | bn_shapes("head.4", mlp) | bn_shapes("head.7", dim, affine=False)
        pred = {"0.weight": (mlp, dim), "3.weight": (dim, mlp)}
        pred |= bn_shapes("1", mlp) | bn_shapes("4", dim, affine=False)
    else:
        enc = resnet50_backbone() | {"fc.0.weight": (mlp, 2048), "fc.3.weight": (dim, mlp)}
        enc |= bn_shapes("fc.1", mlp) | bn_shapes("fc.4", dim, affine=False)
        pred = {"0.weight": (mlp, dim), "3.weight": (dim, mlp)} | bn_shapes("1", mlp)
    return ({f"module.base_encoder.{k}": s for k, s in enc.items()}
            | {f"module.momentum_encoder.{k}": s for k, s in enc.items()}
            | {f"module.predictor.{k}": s for k, s in pred.items()})


def as_layout(model) -> dict[str, tuple]:
    return {f"module.{k}": tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name,d", [("vit_small", 384), ("vit_base", 768)])
def test_released_vit_layouts_are_exactly_the_model_keys(name, d):
    with torch.device("meta"):
        m = MoCoV3(build_encoder("vit", 224, official_vit(name), ResNetOptions()), 256, 4096, 0.2)
    assert as_layout(m) == official_layout("vit", d=d)


def test_released_resnet50_layout_loads_strictly_into_the_whole_model_and_the_backbone():
    m = MoCoV3(build_encoder("resnet", 224, ViTOptions(), ResNetOptions(50, 64, False)), 256, 4096, 1.0)
    layout = official_layout("resnet")
    assert as_layout(m) == layout
    sd = {k: torch.empty(s) if s else torch.tensor(3) for k, s in layout.items()}
    sd["module.base_encoder.layer4.2.conv3.weight"].fill_(0.25)
    sd["module.predictor.3.weight"].fill_(-1.0)
    load_pretrain(m, sd, "r-50-1000ep.pth.tar")
    assert torch.all(m.base_encoder.layer4[2].conv3.weight == 0.25) and torch.all(m.predictor[3].weight == -1)
    backbone = build_encoder("resnet", 224, ViTOptions(), ResNetOptions(50, 64, False))
    assert load_backbone(backbone, sd, "r-50-1000ep.pth.tar") == []  # fc.* (the projector) dropped
    assert torch.all(backbone.layer4[2].conv3.weight == 0.25)


SMALL = dict(d=64, depth=2, p=8, grid=4, mlp=128, dim=32)


def small_model() -> MoCoV3:
    return MoCoV3(build_encoder("vit", 32, ViTOptions(8, 64, 2, 4), ResNetOptions()), 32, 128, 0.2)


def test_vit_file_loads_strictly_into_the_whole_model():
    sd = state_from_shapes(official_layout("vit", **SMALL))
    m = small_model()
    load_pretrain(m, sd, "vit-s-300ep.pth.tar")
    for k, v in m.state_dict().items():
        assert torch.equal(v, sd[f"module.{k}"]), k
    del sd["module.momentum_encoder.head.7.running_var"]
    sd["module.predictor.9.weight"] = torch.zeros(1)
    with pytest.raises(UserError) as e:
        load_pretrain(small_model(), sd, "vit-s-300ep.pth.tar")
    assert "missing momentum_encoder.head.7.running_var" in str(e.value)
    assert "unexpected predictor.9.weight" in str(e.value)


def test_files_of_another_kind_are_refused(tmp_path):
    backbone = build_encoder("vit", 32, ViTOptions(8, 64, 2, 4), ResNetOptions())
    mae = {k: torch.zeros(s) for k, s in vit_backbone(64, 2, 8, 4).items()}  # official MAE: flat timm keys
    simsiam = {f"module.encoder.{k}": v for k, v in mae.items()}
    for sd in (mae, simsiam, {"encoder." + k: v for k, v in mae.items()}):
        path = tmp_path / "other.pth"
        torch.save({"model": sd}, path)
        with pytest.raises(UserError, match="not a MoCo v3"):
            load_backbone(backbone, sd, str(path))


def test_wrong_file_through_the_linear_probe_is_one_line(tmp_path, capsys):
    path = tmp_path / "mae_pretrain_vit_tiny.pth"
    torch.save({"model": {k: torch.zeros(s) for k, s in vit_backbone(64, 4, 4, 8).items()}}, path)
    with pytest.raises(SystemExit) as stop:
        linprobe.run(["--recipe", "tiny", "--finetune", str(path), "--output-dir", str(tmp_path / "lp")])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: not a MoCo v3 checkpoint") and "mae_pretrain_vit_tiny.pth" in err
    assert not (tmp_path / "lp").exists()


def test_official_tiny_layout_through_the_linear_probe(tmp_path, in_process):
    path = tmp_path / "official-tiny.pth.tar"
    sd = state_from_shapes(official_layout("vit", d=64, depth=4, p=4, grid=8, mlp=256, dim=64))
    torch.save({"epoch": 50, "arch": "vit_tiny", "state_dict": sd, "optimizer": {}, "scaler": {}}, path)
    result, out = in_process(linprobe.run, "--recipe", "tiny", "--finetune", path, "--epochs", "1",
                             "--stop-after-steps", "1", "--output-dir", tmp_path / "lp")
    assert f"loaded encoder from {path}" in out


def test_official_resnet50_file_exports_a_backbone_file_other_methods_rebuild(tmp_path, in_process):
    sd = {k: torch.randn(s) if s else torch.tensor(3) for k, s in official_layout("resnet").items()}
    src = tmp_path / "r-50-1000ep.pth.tar"
    torch.save({"epoch": 1000, "arch": "resnet50", "state_dict": sd, "optimizer": {}}, src)
    for keep, out in ((False, tmp_path / "plain.pt"), (True, tmp_path / "with-projector.pt")):
        in_process(export.run, "--checkpoint", src, "--output", out, *(["--keep-projector"] if keep else []))
        rebuilt = load_backbone_file(out)  # built from the file's arch record, loaded strictly
        assert torch.equal(rebuilt.layer4[2].conv3.weight, sd["module.base_encoder.layer4.2.conv3.weight"])
        if keep:  # RCG's encoder keeps the projector: 2048 -> 4096 -> 256 with its BNs
            assert torch.equal(rebuilt.fc[3].weight, sd["module.base_encoder.fc.3.weight"])
            assert rebuilt.eval()(torch.randn(2, 3, 64, 64)).shape == (2, 256)
        else:
            assert isinstance(rebuilt.fc, torch.nn.Identity)
    wrong = dict(sd)
    wrong["module.base_encoder.conv1.weight"] = torch.zeros(64, 3, 3, 3)  # not the arch the file names
    torch.save({"epoch": 1, "arch": "resnet50", "state_dict": wrong}, src)
    with pytest.raises(SystemExit):
        export.run(["--checkpoint", str(src), "--output", str(tmp_path / "never.pt")])
    assert not (tmp_path / "never.pt").exists()
