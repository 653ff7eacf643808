"""SlowFast contrastive checkpoints load into the core Slow-R50 through the explicit name table, every key
accounted for: the file is built here from the reference's key layout (section 3, item 28), with each backbone
tensor holding a distinct value that must land in the matching core parameter; heads, momentum copy, queue,
prototypes and kNN memory are dropped; an unknown key or a file of another kind is a one-line error."""

import pytest
import torch

from vis.core.errors import UserError
from vis.core.models.slow_resnet import SlowResNet, video_backbone
from vis.rho.convert import load_backbone

STAGE_BLOCKS = {2: 3, 3: 4, 4: 6, 5: 3}


def slowfast_layout(width: int = 64, blocks=STAGE_BLOCKS, kernels=(1, 1, 3, 3)) -> dict[str, tuple]:
    """Backbone key -> shape of a SlowFast Slow-R50 (`s1.pathway0_stem`, `s{2..5}.pathway0_res{i}.branch*`)."""
    def bn(prefix, c):
        return {f"{prefix}.{n}": (c,) for n in ("weight", "bias", "running_mean", "running_var")} | \
            {f"{prefix}.num_batches_tracked": ()}

    keys = {"s1.pathway0_stem.conv.weight": (width, 3, 1, 7, 7), **bn("s1.pathway0_stem.bn", width)}
    c_in = width
    for s, n in blocks.items():
        w, kt = width * 2 ** (s - 2), kernels[s - 2]
        for i in range(n):
            p = f"s{s}.pathway0_res{i}"
            if i == 0:
                keys |= {f"{p}.branch1.weight": (4 * w, c_in, 1, 1, 1), **bn(f"{p}.branch1_bn", 4 * w)}
            keys |= {f"{p}.branch2.a.weight": (w, c_in if i == 0 else 4 * w, kt, 1, 1), **bn(f"{p}.branch2.a_bn", w),
                     f"{p}.branch2.b.weight": (w, w, 1, 3, 3), **bn(f"{p}.branch2.b_bn", w),
                     f"{p}.branch2.c.weight": (4 * w, w, 1, 1, 1), **bn(f"{p}.branch2.c_bn", 4 * w)}
        c_in = 4 * w
    return keys


def contrastive_file(path, layout: dict[str, tuple], extra: dict | None = None) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    backbone = {k: torch.randn(s) if s else torch.tensor(7) for k, s in layout.items()}
    sd = {f"backbone.{k}": v for k, v in backbone.items()}
    sd |= {f"backbone_hist.{k}": v + 1 for k, v in backbone.items() if v.ndim}  # the momentum copy
    sd |= {"backbone.head.projection.projection.0.weight": torch.randn(8, 16), "queue_x": torch.randn(32, 8),
           "ptr": torch.tensor(3), "swav_prototypes": torch.randn(10, 8), "knn_mem.memory": torch.randn(5, 16)}
    torch.save({"model_state": sd | (extra or {}), "epoch": 200, "cfg": "MODEL:\n  MODEL_NAME: ContrastiveModel\n"},
               path)
    return backbone


def test_released_layout_loads_key_by_key_into_slow_r50(tmp_path):
    layout = slowfast_layout()
    assert len([k for k in layout if k.endswith("weight") and len(layout[k]) == 5]) == 1 + 16 * 3 + 4
    backbone = contrastive_file(tmp_path / "byol.pyth", layout)
    model = SlowResNet()
    load_backbone(model, tmp_path / "byol.pyth")
    own = model.state_dict()
    assert own["conv1.weight"].equal(backbone["s1.pathway0_stem.conv.weight"])
    assert own["layer3.5.conv1.weight"].equal(backbone["s4.pathway0_res5.branch2.a.weight"])  # 3x1x1 in res4
    assert own["layer4.0.downsample.1.running_var"].equal(backbone["s5.pathway0_res0.branch1_bn.running_var"])
    assert own["layer1.2.bn3.weight"].equal(backbone["s2.pathway0_res2.branch2.c_bn.weight"])
    assert sum(v.numel() for k, v in backbone.items()) == sum(v.numel() for v in own.values())


def test_unknown_keys_and_other_files_are_one_line_errors(tmp_path):
    layout = slowfast_layout(8, {2: 1, 3: 1, 4: 1, 5: 1})
    contrastive_file(tmp_path / "odd.pyth", layout, {"backbone.s6.pathway0_res0.branch2.a.weight": torch.zeros(1)})
    with pytest.raises(UserError, match="outside the Slow-R50 name table.*s6"):
        load_backbone(video_backbone("slow-tiny"), tmp_path / "odd.pyth")
    contrastive_file(tmp_path / "tiny.pyth", layout)
    load_backbone(video_backbone("slow-tiny"), tmp_path / "tiny.pyth")  # the small variant's layout loads too
    with pytest.raises(UserError, match="does not fit"):
        load_backbone(SlowResNet(), tmp_path / "tiny.pyth")
    torch.save({"model": {"conv1.weight": torch.zeros(4, 3, 7, 7)}}, tmp_path / "image.pt")
    with pytest.raises(UserError, match="not a video backbone"):
        load_backbone(SlowResNet(), tmp_path / "image.pt")
