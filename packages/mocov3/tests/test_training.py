"""The training loop around MoCoV3: the momentum update is wired to the steps, the optimizer never sees
the key branch, the ResNet / LARS path trains, a run killed with kill -9 (at a step, and inside a checkpoint
write) resumes to bitwise the same weights, and a ViT run exports a backbone file that rebuilds it."""

import torch

from vis.core.convert import load_backbone_file
from vis.core.testing import final_weights, kill_9_resumes_bitwise
from vis.mocov3.cli import export, pretrain
from vis.mocov3.pretrain import build_mocov3

run = pretrain.run


def branches(out) -> tuple[dict, dict]:
    w = final_weights(out)
    pick = lambda prefix: {k[len(prefix):]: v for k, v in w.items() if k.startswith(prefix)}
    return pick("base_encoder."), pick("momentum_encoder.")


def test_key_branch_moves_only_by_the_momentum_update(tmp_path, fast_args, in_process):
    steps = [*fast_args, "--stop-after-steps", "3"]
    in_process(run, *steps, "--moco-m", "0", "--no-moco-m-cos", "--output-dir", tmp_path / "m0")
    base, key = branches(tmp_path / "m0")
    params = [k for k in key if "running" not in k and "num_batches" not in k]
    assert all(torch.equal(base[k], key[k]) for k in params)  # m = 0: a copy of the query branch each step

    in_process(run, *steps, "--moco-m", "1", "--no-moco-m-cos", "--output-dir", tmp_path / "m1")
    base, key = branches(tmp_path / "m1")
    in_process(run, *fast_args, "--stop-after-steps", "1", "--lr", "0", "--moco-m", "1", "--no-moco-m-cos",
               "--output-dir", tmp_path / "init")
    _, key_at_init = branches(tmp_path / "init")
    assert all(torch.equal(key[k], key_at_init[k]) for k in params)  # m = 1: frozen at the initial copy
    assert not torch.equal(base["blocks.0.attn.qkv.weight"], key["blocks.0.attn.qkv.weight"])


def test_resnet_with_lars_trains_its_backbone_and_heads(tmp_path, fast_args, in_process):
    result, printed = in_process(run, *fast_args, "--recipe", "tiny-resnet", "--resnet-width", "4",
                                 "--input-size", "16", "--stop-after-steps", "3", "--output-dir", tmp_path)
    w = final_weights(tmp_path)
    assert "base_encoder.layer4.1.conv2.weight" in w and "base_encoder.fc.4.running_mean" in w
    assert "predictor.3.weight" in w and "predictor.4.running_mean" not in w  # no last BN for ResNets
    groups = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)["optimizer"]["param_groups"]
    names = [n for g in groups for n in g["names"]]
    assert not any(n.startswith("momentum_encoder.") for n in names) and "base_encoder.bn1.bias" in names
    assert result["loss"] == result["loss"]  # finite, logged


def test_kill_9_resumes_bitwise(tmp_path, fast_args):
    """The momentum encoder, its BN statistics, AdamW's state and the sampler position all come back."""
    kept = kill_9_resumes_bitwise("mocov3-pretrain", run, [*fast_args, "--save-every-steps", "2"], tmp_path, 22)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt


def test_vit_run_exports_a_backbone_file_with_its_projector(tmp_path, fast_args, in_process):
    in_process(run, *fast_args, "--stop-after-steps", "2", "--output-dir", tmp_path)
    out = tmp_path / "backbone.pt"
    in_process(export.run, "--checkpoint", tmp_path / "checkpoints" / "last.pt", "--output", out, "--keep-projector")
    model = build_mocov3(pretrain.parse(fast_args))
    model.load_state_dict(final_weights(tmp_path))
    rebuilt = load_backbone_file(out).eval()  # ViT with the sin-cos table, its norm and the projector
    x = torch.randn(4, 3, 32, 32)
    torch.testing.assert_close(rebuilt(x), model.eval().base_encoder(x), rtol=0, atol=0)
    assert rebuilt.head[6].weight.shape == (16, 64)  # projector 32 -> 64 -> 64 -> 16
