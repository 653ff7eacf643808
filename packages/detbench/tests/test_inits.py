"""The five initialisations: each pre-trained kind loads strictly from a file of its own key layout (values
land where the layout says: BEiT's gamma -> layer scale, q/v bias -> fused qkv bias with a zero k bias,
per-block tables -> the shared table of their attention type, averaged and resized), and a file of any other
kind is refused with one line naming the kind."""

import pytest
import torch

from vis.core.convert_inits import load_det_vit_kind
from vis.core.errors import UserError
from vis.core.models.rel_bias import resize_rel_bias_table
from vis.detbench.model import build_trunk
from vis.detbench.recipes import TINY_DET, TINY_VIT

from .layouts import GRID, WRITERS, beit_file, mocov3_official_file


def trunk(layer_scale=None, depth=4, window=8):
    import dataclasses

    det = dataclasses.replace(TINY_DET, layer_scale=layer_scale, window_size=window)
    torch.manual_seed(0)
    return build_trunk(dataclasses.replace(TINY_VIT, depth=depth), det, 128)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inits")
    return {k: (root / f"{k}.pt", w(root / f"{k}.pt")) for k, w in WRITERS.items()}


@pytest.mark.parametrize("kind", ["supervised", "mocov3", "mae"])
def test_timm_layouts_load_strictly(files, kind):
    path, sd = files[kind]
    t = trunk()
    fresh = load_det_vit_kind(t, path, kind)
    assert fresh == ["rel_bias_global.relative_position_bias_table"]  # zero-init for every kind but BEiT
    own = t.state_dict()
    torch.testing.assert_close(own["blocks.3.mlp.fc2.weight"], sd["blocks.3.mlp.fc2.weight"])
    torch.testing.assert_close(own["pos_embed"], sd["pos_embed"])  # 8 x 8 + cls: kept at the pre-train grid
    assert own["patch_embed.proj.weight"].shape[-1] == 8  # kernel resampled 4 -> 8
    assert (own["rel_bias_global.relative_position_bias_table"] == 0).all()


def test_official_mocov3_file_drops_projector_and_momentum_branch(tmp_path):
    enc = mocov3_official_file(tmp_path / "moco.pth.tar")
    t = trunk()
    load_det_vit_kind(t, tmp_path / "moco.pth.tar", "mocov3")
    torch.testing.assert_close(t.state_dict()["blocks.0.attn.qkv.weight"], enc["blocks.0.attn.qkv.weight"])


def test_beit_layout_maps_gamma_qv_bias_and_tables(files):
    path = files["beit"][0]
    t = trunk(layer_scale=0.1, depth=8, window=4)  # window blocks 0, 2, 4, 6; global 1, 3, 5, 7
    pos_before = t.pos_embed.detach().clone()
    sd8 = beit_file(path.with_name("beit8.pt"), depth=8)
    fresh = load_det_vit_kind(t, path.with_name("beit8.pt"), "beit")
    assert fresh == ["pos_embed"]  # the paper: random absolute positions with BEiT
    torch.testing.assert_close(t.pos_embed, pos_before)
    own = t.state_dict()
    torch.testing.assert_close(own["blocks.2.ls1.gamma"], sd8["blocks.2.gamma_1"])
    torch.testing.assert_close(own["blocks.2.ls2.gamma"], sd8["blocks.2.gamma_2"])
    q, k, v = own["blocks.1.attn.qkv.bias"].chunk(3)
    torch.testing.assert_close(q, sd8["blocks.1.attn.q_bias"])
    torch.testing.assert_close(v, sd8["blocks.1.attn.v_bias"])
    assert (k == 0).all()
    rows = (2 * GRID - 1) ** 2
    for name, blocks, size in (("window", (0, 2, 4, 6), (4, 4)), ("global", (1, 3, 5, 7), (16, 16))):
        tables = [sd8[f"blocks.{i}.attn.relative_position_bias_table"][:rows] for i in blocks]
        want = torch.stack([resize_rel_bias_table(x, (GRID, GRID), size) for x in tables]).mean(0)
        torch.testing.assert_close(own[f"rel_bias_{name}.relative_position_bias_table"], want)


def test_beit_shared_table_and_missing_layer_scale(tmp_path):
    sd = beit_file(tmp_path / "shared.pt", shared=True)
    t = trunk(layer_scale=0.1)
    load_det_vit_kind(t, tmp_path / "shared.pt", "beit")
    want = resize_rel_bias_table(sd["rel_pos_bias.relative_position_bias_table"][:225], (GRID, GRID), (16, 16))
    torch.testing.assert_close(t.rel_bias_global.relative_position_bias_table, want)
    with pytest.raises(UserError, match="unexpected blocks.0.ls1.gamma"):
        load_det_vit_kind(trunk(), tmp_path / "shared.pt", "beit")  # no layer scale in the trunk


@pytest.mark.parametrize("kind", ["supervised", "mocov3", "beit", "mae"])
def test_a_file_of_another_kind_is_refused_in_one_line(files, kind):
    for other, (path, _) in files.items():
        if other == kind:
            continue
        with pytest.raises(UserError) as err:
            load_det_vit_kind(trunk(layer_scale=0.1 if kind == "beit" else None), path, kind)
        line = err.value.line()
        assert len(line.splitlines()) == 1 and f"not a {kind} checkpoint (its keys look like {other})" in line
