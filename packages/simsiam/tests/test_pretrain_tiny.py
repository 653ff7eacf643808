"""The tiny recipe through the real entry points on digits: the pre-trained backbone beats a randomly
initialised one on the kNN monitor and on the (LARC) linear probe, both measured in the same test; the
backbone file the run writes rebuilds the trained encoder exactly."""

import json

import torch

from vis.core.convert import load_backbone_file
from vis.core.testing import final_weights
from vis.simsiam.cli import linprobe, pretrain
from vis.simsiam.pretrain import build_model


def records(out):
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def best_top1(out) -> float:
    return max(r["top1"] for r in records(out) if "top1" in r)


def test_tiny_recipe_beats_random_init_on_knn_and_linear_probe(tiny_pretrained, tmp_path, in_process):
    out, printed = tiny_pretrained
    summary = records(out)[-1]
    knn, knn_random = summary["knn_top1"], summary["knn_top1_random_init"]
    z_std = [r["z_std"] for r in records(out) if "z_std" in r][-1]  # healthy: about 1/sqrt(128)
    assert "collapse warning" not in printed and 0.8 < z_std * 128**0.5 < 1.2

    model = build_model(pretrain.parse(["--recipe", "tiny"]))  # the fixture's architecture
    model.load_state_dict(final_weights(out))
    x = torch.randn(4, 3, 32, 32)
    rebuilt = load_backbone_file(out / "backbone.pt").eval()  # how RCG and ViTDet will read it
    torch.testing.assert_close(rebuilt(x), model.eval().features(x), rtol=0, atol=0)

    probe = ["--recipe", "tiny", "--epochs", "5"]
    pre, _ = in_process(linprobe.run, *probe, "--finetune", out / "backbone.pt", "--output-dir", tmp_path / "pre")
    rnd, _ = in_process(linprobe.run, *probe, "--output-dir", tmp_path / "random")
    a, b = best_top1(tmp_path / "pre"), best_top1(tmp_path / "random")
    print(f"kNN {knn:.3f} vs random {knn_random:.3f}; linear probe {a:.2f}% vs random {b:.2f}%")
    assert knn > knn_random + 0.05
    assert a > b + 5 and pre["backbone_unchanged"] and rnd["backbone_unchanged"]
