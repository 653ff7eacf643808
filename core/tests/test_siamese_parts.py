"""Parts of the Siamese and contrastive methods: ResNet, MoCo v3 ViT options, MLP heads, momentum encoder,
LARC, CPU SyncBatchNorm, InfoNCE, multi-view transforms."""

import math
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torchvision

from vis.core.data.builtin import DigitsImages
from vis.core.data.loader import SeededDataset
from vis.core.data.views import byol_views
from vis.core.eval.linear_probe import LinearProbe
from vis.core.losses import info_nce, negative_cosine
from vis.core.models.heads import mlp_head
from vis.core.models.momentum import cosine_momentum, ema_update_, momentum_copy
from vis.core.models.resnet import resnet
from vis.core.models.vit import VisionTransformer
from vis.core.optim import LARC, LARS
from vis.core.sync_bn import CpuSyncBatchNorm, convert_sync_batchnorm


def test_resnet50_is_torchvisions_model_with_zero_init_residual():
    ours, theirs = resnet(50, num_classes=1000), torchvision.models.resnet50(zero_init_residual=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    assert sum(p.numel() for p in ours.parameters()) == 25_557_032
    assert sum(p.numel() for p in resnet(50).parameters()) == 23_508_032  # no fc: the SSL backbone
    assert all(not b.bn3.weight.detach().any() for layer in (ours.layer1, ours.layer4) for b in layer)
    x = torch.randn(2, 3, 64, 64)
    ours.eval()
    torch.testing.assert_close(ours.features(x) @ ours.fc.weight.T + ours.fc.bias, ours(x))


def test_small_resnet_keeps_32px_resolution_until_its_stages():
    net = resnet(18, width=16, small_input=True)
    assert net.num_features == 128 and net(torch.randn(2, 3, 32, 32)).shape == (2, 128)
    assert net.conv1.kernel_size == (3, 3) and isinstance(net.maxpool, nn.Identity)


def test_mocov3_init_bounds_and_frozen_random_patch_projection():
    torch.manual_seed(0)
    d, p = 64, 4
    vit = VisionTransformer(img_size=32, patch_size=p, embed_dim=d, depth=2, num_heads=4, num_classes=0,
                            init="mocov3", sincos_order="mocov3", frozen_patch_embed=True)
    qkv = vit.blocks[0].attn.qkv.weight
    bound = math.sqrt(6 / (qkv.shape[0] // 3 + qkv.shape[1]))  # Q, K, V as separate d x d matrices
    assert qkv.abs().max() <= bound and qkv.abs().max() > 0.95 * bound
    fc1 = vit.blocks[0].mlp.fc1.weight
    assert fc1.abs().max() <= math.sqrt(6 / sum(fc1.shape))
    patch_bound = math.sqrt(6 / (3 * p * p + d))
    assert vit.patch_embed.proj.weight.abs().max() <= patch_bound
    assert not vit.patch_embed.proj.bias.any() and not vit.patch_embed.proj.weight.requires_grad
    assert vit.cls_token.std() < 1e-5
    row1 = vit.pos_embed[0, 1 + 8 : 1 + 16]  # the 8 tokens of grid row 1, [row, col] order: row channels first
    assert torch.equal(row1[:, : d // 2], row1[:1, : d // 2].expand(8, -1)) and row1[0, 0] != 0
    assert not torch.equal(row1[0, d // 2 :], row1[1, d // 2 :])  # the column half varies along the row


def test_conv_stem_has_the_official_layout():
    vit = VisionTransformer(img_size=64, patch_size=16, embed_dim=384, depth=1, num_heads=12, num_classes=0,
                            init="mocov3", conv_stem=True, frozen_patch_embed=True)
    convs = [m for m in vit.patch_embed.proj if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [48, 96, 192, 384, 384]
    assert [k for k in vit.state_dict() if k.startswith("patch_embed") and k.endswith("weight")] == [
        f"patch_embed.proj.{i}.weight" for i in (0, 1, 3, 4, 6, 7, 9, 10, 12)]
    assert all(p.requires_grad for p in vit.patch_embed.parameters())  # MoCo v3 never freezes a conv stem
    assert vit(torch.randn(2, 3, 64, 64)).shape == (2, 384)


def test_mlp_head_layout_bias_rules_and_last_bn():
    head = mlp_head([8, 16, 16, 4], last_bn=True, last_bias="frozen")
    assert [type(m).__name__ for m in head] == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU",
                                                "Linear", "BatchNorm1d"]
    assert head[0].bias is None and head[3].bias is None and not head[6].bias.requires_grad
    assert not head[7].affine
    assert sum(p.numel() for p in head.parameters()) == 8 * 16 + 32 + 16 * 16 + 32 + 16 * 4 + 4
    pred = mlp_head([4, 2, 4], last_bn=False, last_bias="trainable")
    assert len(pred) == 4 and pred[3].bias.requires_grad


def test_momentum_encoder_averages_parameters_only_and_never_gets_gradients():
    source = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    target = momentum_copy(source)
    assert not any(p.requires_grad for p in target.parameters())
    before = [p.clone() for p in target.parameters()]
    with torch.no_grad():
        for p in source.parameters():
            p.add_(1.0)
    source(torch.randn(4, 3))  # moves the source's BN statistics only
    ema_update_(target, source, 0.9)
    for b, t, s in zip(before, target.parameters(), source.parameters(), strict=True):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * s)
    assert torch.equal(target[1].running_mean, torch.zeros(3))
    assert cosine_momentum(0.99, 0, 100) == 0.99 and cosine_momentum(0.99, 100, 100) == 1.0
    assert cosine_momentum(0.99, 50, 100) == pytest.approx(0.995)


def test_larc_adapts_every_parameter_and_steps_a_zero_bias_at_full_lr():
    w = nn.Parameter(torch.full((2, 2), 3.0))
    b = nn.Parameter(torch.zeros(2))
    w.grad, b.grad = torch.full((2, 2), 0.5), torch.full((2,), 0.25)
    LARC([{"params": [w, b], "weight_decay": 0.1}], lr=2.0, momentum=0.0).step()
    rate = 0.001 * 6.0 / (1.0 + 6.0 * 0.1 + 1e-8)  # trust |p| / (|g| + wd |p| + eps)
    torch.testing.assert_close(w, torch.full((2, 2), 3.0 - 2.0 * rate * (0.5 + 0.1 * 3.0)))
    torch.testing.assert_close(b, torch.full((2,), -2.0 * 0.25))  # |p| = 0: plain gradient, full lr
    v = nn.Parameter(torch.ones(2))
    v.grad = torch.ones(2)
    LARS([v], lr=1.0, momentum=0.0).step()
    torch.testing.assert_close(v, torch.zeros(2))  # LARS leaves ndim <= 1 unadapted; LARC would not


def test_info_nce_is_cross_entropy_against_the_matching_key():
    torch.manual_seed(0)
    q, k = torch.randn(256, 32), torch.randn(256, 32)
    logits = nn.functional.normalize(q, dim=1) @ nn.functional.normalize(k, dim=1).T / 0.2
    expected = nn.functional.cross_entropy(logits, torch.arange(256))
    torch.testing.assert_close(info_nce(q, k, 0.2), expected)
    assert info_nce(q, k, 1.0).item() == pytest.approx(math.log(256), rel=0.02)  # random keys: ~ln N
    assert info_nce(q, q, 0.05).item() < 0.1
    assert negative_cosine(q, q).item() == pytest.approx(-1.0)


def test_views_stack_two_different_deterministic_crops():
    data = SeededDataset(DigitsImages(), byol_views(32, 0.2), seed=3)
    a, b = data[(0, 5)]["image"], data[(0, 5)]["image"]
    assert a.shape == (2, 3, 32, 32) and torch.equal(a, b)
    assert not torch.equal(a[0], a[1])


def test_linear_probe_keeps_a_frozen_resnet_in_eval_mode():
    probe = LinearProbe(resnet(18, width=8, small_input=True), num_classes=10, bn=False).train()
    stats = probe.encoder.bn1.running_mean.clone()
    probe(torch.randn(4, 3, 32, 32))
    assert not probe.encoder.training and torch.equal(stats, probe.encoder.bn1.running_mean)
    assert [n for n, p in probe.named_parameters() if p.requires_grad] == ["head.0.weight", "head.0.bias"]


def _sync_bn_worker(rank: int, port: int, x: torch.Tensor, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(0)
    net = convert_sync_batchnorm(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)), torch.device("cpu"))
    assert isinstance(net[1], CpuSyncBatchNorm)
    ddp = nn.parallel.DistributedDataParallel(net)
    ddp(x[rank * 4 : (rank + 1) * 4]).pow(3).mean().backward()
    if rank == 0:
        out["grads"] = [p.grad.clone() for p in net.parameters()]
        out["stats"] = [net[1].running_mean.clone(), net[1].running_var.clone()]
    dist.destroy_process_group()


def test_cpu_sync_batchnorm_over_two_ranks_equals_one_process_with_the_whole_batch(monkeypatch):
    torch.manual_seed(1)
    x = torch.randn(8, 3, 6, 6)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = mp.Manager().dict()
    # a spawned child imports this module by the name pytest's importlib mode gave it (core.tests....), which
    # resolves from the repository root; fork is no way out (a forked child of a threaded torch can hang)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    mp.spawn(_sync_bn_worker, args=(port, x, out), nprocs=2)
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    ref(x).pow(3).mean().backward()
    for got, want in zip(out["grads"], ref.parameters(), strict=True):
        torch.testing.assert_close(got, want.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(out["stats"][0], ref[1].running_mean)
    torch.testing.assert_close(out["stats"][1], ref[1].running_var)
