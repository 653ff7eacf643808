"""The paper's optimisation rules through the real entry point: lr = 0.05 x GLOBAL batch / 256 at epoch 0,
a per-epoch half cosine without warm-up for the encoder, a fixed lr for the predictor with --fix-pred-lr,
weight decay on every trainable parameter; and apex-LARC's full first step on a zero-initialised bias
(linear evaluation)."""

import json
import math

import pytest
import torch

from vis.core.optim import LARC
from vis.simsiam.cli import pretrain


def records(out):
    return [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]


def test_lr_follows_the_global_batch_rule_and_the_predictor_lr_stays_fixed(tmp_path, fast_args, in_process):
    epochs = 4
    in_process(pretrain.run, *fast_args, "--epochs", epochs, "--fix-pred-lr", "--log-every", "22",
               "--stop-after-steps", "66", "--output-dir", tmp_path)
    steps = [r for r in records(tmp_path) if "loss" in r]
    assert [r["epoch"] for r in steps] == [0, 1, 2]  # one record at each epoch's last step (22 steps each)
    base = 0.05 * 64 / 256
    for r in steps:
        assert r["lr/fixed_lr"] == pytest.approx(base, rel=1e-12)
        cosine = base * 0.5 * (1 + math.cos(math.pi * r["epoch"] / epochs))  # constant within the epoch
        assert r["lr/all"] == pytest.approx(cosine, rel=1e-12)
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    groups = state["optimizer"]["param_groups"]
    assert [(g["name"], g["weight_decay"], g.get("fix_lr", False)) for g in groups] == \
        [("all", 1e-4, False), ("fixed_lr", 1e-4, True)]
    assert all(name.startswith("predictor.") for name in groups[1]["names"])
    assert "encoder.fc.6.bias" not in groups[0]["names"]  # the frozen bias is not optimised
    assert any(n.endswith("bn1.bias") for n in groups[0]["names"])  # BN and biases are decayed too


def test_without_fix_pred_lr_every_parameter_follows_the_cosine(tmp_path, fast_args, in_process):
    in_process(pretrain.run, *fast_args, "--no-fix-pred-lr", "--stop-after-steps", "1", "--log-every", "1",
               "--output-dir", tmp_path)
    (r,) = [r for r in records(tmp_path) if "loss" in r]
    assert r["lr/all"] == pytest.approx(0.05 * 64 / 256) and "lr/fixed_lr" not in r


def test_larc_first_step_on_a_zero_bias_is_a_full_lr_step():
    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 4)
    torch.nn.init.normal_(layer.weight, std=0.01)
    torch.nn.init.zeros_(layer.bias)
    w0 = layer.weight.detach().clone()
    lr, trust = 1.6, 0.001
    opt = LARC(layer.parameters(), lr=lr, weight_decay=0.0, momentum=0.9, trust_coefficient=trust)
    torch.nn.functional.cross_entropy(layer(torch.randn(32, 16)), torch.randint(0, 4, (32,))).backward()
    gw, gb = layer.weight.grad.clone(), layer.bias.grad.clone()
    opt.step()
    torch.testing.assert_close(layer.bias.detach(), -lr * gb)  # |p| = 0: no adaptation
    rate = trust * w0.norm() / (gw.norm() + 1e-8)  # apex: trust |p| / (|g| + wd |p| + eps)
    torch.testing.assert_close(layer.weight.detach(), w0 - lr * rate * gw)
