"""vis-core pieces of the rho-video study: Slow-R50 (parameters and FLOPs derived from the architecture), rho
clips per video, frame-consistent clip colour augmentation, the key queue, Sinkhorn-Knopp, NT-Xent and
shuffle-BN (over two gloo ranks against one process)."""

import math
import os
import socket
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torchvision

from vis.core.contrastive import KeyQueue, nt_xent_pair, shuffled_forward, sinkhorn_knopp
from vis.core.data.moving_shapes import write_mp4
from vis.core.data.multi_clip import ContrastiveClipView, MultiClipSampler, gap_violation, multi_clip_starts
from vis.core.data.video import ClipSpec, VideoFile
from vis.core.models.slow_resnet import SlowResNet, video_backbone

STAGES = ((3, 64, 1), (4, 128, 1), (6, 256, 3), (3, 512, 3))  # blocks, bottleneck width, temporal kernel of conv1


def slow_r50_convs(t: int, size: int) -> list[tuple[int, int, int, int]]:
    """(weights per output position, output channels, output positions) of every conv, from the paper's table."""
    s = size // 4  # after the stride-2 stem conv and the stride-2 pool
    convs = [(3 * 7 * 7, 64, t * (size // 2) ** 2)]
    c_in = 64
    for i, (blocks, w, kt) in enumerate(STAGES):
        for b in range(blocks):
            stride = 2 if (b == 0 and i > 0) else 1
            s_out = s // stride
            convs += [(kt * c_in, w, t * s * s), (9 * w, w, t * s_out**2), (w, 4 * w, t * s_out**2)]
            if b == 0:
                convs.append((c_in, 4 * w, t * s_out**2))
            c_in, s = 4 * w, s_out
    return [(k, c_out, n, 0) for k, c_out, n in convs]


def test_slow_r50_parameters_equal_resnet50_plus_the_temporal_kernels_of_res4_and_res5():
    model = SlowResNet(num_classes=400)
    count = sum(p.numel() for p in model.parameters())
    r50 = sum(p.numel() for n, p in torchvision.models.resnet50().named_parameters() if not n.startswith("fc."))
    extra = 2 * (512 * 256 + 5 * 1024 * 256) + 2 * (1024 * 512 + 2 * 2048 * 512)  # 3x1x1 instead of 1x1x1
    assert count == r50 + extra + 2048 * 400 + 400 == 32_454_096
    convs = sum(k * c for k, c, _, _ in slow_r50_convs(8, 224))
    bn = 2 * sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm3d))
    assert count == convs + bn + 2048 * 400 + 400


def test_slow_r50_keeps_all_frames_and_its_conv_flops_match_the_architecture():
    from fvcore.nn import FlopCountAnalysis

    model = SlowResNet().eval()
    x = torch.randn(1, 3, 8, 64, 64)
    with torch.no_grad():
        assert model.feature_map(x).shape == (1, 2048, 8, 2, 2)  # no temporal downsampling, stride 32
    flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    assert flops.by_operator()["conv"] == sum(k * c * n for k, c, n, _ in slow_r50_convs(8, 64))
    # at 8 x 224^2 the same sum is 41.74 G multiply-adds: within 2% of the 42 G quoted for Slow-R50 8x8
    assert round(sum(k * c * n for k, c, n, _ in slow_r50_convs(8, 224)) / 1e7) == 4174
    tiny = video_backbone("slow-tiny")
    blocks = (tiny.layer1[0], tiny.layer2[0], tiny.layer3[0], tiny.layer4[0])
    assert [m.conv1.kernel_size[0] for m in blocks] == [1, 1, 3, 3]


def test_clip_starts_are_independent_uniform_sorted_and_respect_gap_bounds():
    torch.manual_seed(0)
    draws = torch.tensor([multi_clip_starts(3, 10, 100) for _ in range(2000)])
    assert (draws[:, 1:] >= draws[:, :-1]).all() and draws.min() >= 0 and draws.max() <= 90
    assert abs(draws.mean().item() - 45) < 1.5  # uniform over the whole video, not a window
    overlapping = ((draws[:, 1:] - draws[:, :-1]) < 10).any(dim=1).float().mean()
    assert overlapping > 0.2  # clips may overlap (global sampling)
    for _ in range(50):
        s = multi_clip_starts(3, 10, 100, gap_min=20, gap_max=30)
        assert gap_violation(s, 20, 30) == 0
    assert gap_violation(multi_clip_starts(3, 10, 30, gap_min=50), 50, math.inf) > 0  # impossible: least bad


def _coded_video(path: Path, n: int = 48) -> str:
    write_mp4(path, np.stack([np.full((32, 32, 3), 5 * k, np.uint8) for k in range(n)]), fps=30)
    return str(path)


def test_sampler_gives_rho_clips_at_different_times_and_one_clip_twice_for_rho_1(tmp_path):
    video = VideoFile(_coded_video(tmp_path / "v.mp4"))
    ident = lambda f, s: f.permute(1, 0, 2, 3).float()
    torch.manual_seed(0)
    clips = MultiClipSampler(ClipSpec(4, 2), ident, rho=3)(video)
    assert clips.shape == (3, 3, 4, 32, 32)
    starts = [round(c[0, 0].mean().item() / 5) for c in clips]
    assert starts == sorted(starts) and len(set(starts)) > 1
    same = MultiClipSampler(ClipSpec(4, 2), ident, rho=1)(video)
    assert same.shape[0] == 2 and torch.equal(same[0], same[1])


def test_clip_colour_augmentation_is_the_same_for_every_frame_and_new_for_every_clip():
    frames = torch.randint(0, 255, (1, 3, 24, 24), dtype=torch.uint8).expand(6, 3, 24, 24).contiguous()
    view = ContrastiveClipView(16, scale=(0.3, 0.6), jitter_p=1.0, gray_p=0.5, blur_p=0.5)
    torch.manual_seed(0)
    a, b = view(frames), view(frames)
    assert a.shape == (3, 6, 16, 16)
    for clip in (a, b):
        assert all(torch.allclose(clip[:, t], clip[:, 0]) for t in range(6))  # one draw for the whole clip
    assert not torch.allclose(a, b)


def test_queue_wraps_and_is_filled_once_every_slot_was_written():
    q = KeyQueue(10, 4)
    assert abs(q.keys).max() <= 1 / math.sqrt(4 / 3)
    for i in range(3):
        assert not q.filled
        q.enqueue(torch.full((4, 4), float(i)))
    assert q.filled and int(q.ptr) == 2
    assert q.keys[:, 0].tolist() == [2, 2, 0, 0, 1, 1, 1, 1, 2, 2]


def test_sinkhorn_codes_sum_to_one_per_sample_and_spread_mass_evenly_over_prototypes():
    torch.manual_seed(0)
    scores = torch.randn(64, 8) * 0.3
    codes = sinkhorn_knopp(scores, 0.05, 3)
    torch.testing.assert_close(codes.sum(1), torch.ones(64))
    err = lambda c: (c.sum(0) - 64 / 8).abs().max()
    assert err(sinkhorn_knopp(scores, 0.05, 50)) < 1e-3 < err(codes) < err(torch.softmax(scores / 0.05, 1))


def test_nt_xent_counts_2b_minus_1_candidates_and_matches_a_direct_sum():
    torch.manual_seed(0)
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    assert abs(nt_xent_pair(z1, z2, 1e4).item() - math.log(11)) < 1e-3
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    sim = torch.exp(z @ z.T / 0.1)
    direct = [-torch.log(sim[i, (i + 6) % 12] / (sim[i].sum() - sim[i, i])) for i in range(12)]
    torch.testing.assert_close(nt_xent_pair(z1, z2, 0.1), torch.stack(direct).mean())


def _two_rank_worker(rank: int, port: int, x: torch.Tensor, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(rank)
    half = x[rank * 4 : (rank + 1) * 4]
    lin = nn.Linear(5, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.arange(15.0).view(3, 5) / 10)
        lin.bias.zero_()
    out[f"shuffled{rank}"] = shuffled_forward(lin, half)
    bn = nn.BatchNorm1d(5)
    out[f"bn{rank}"] = shuffled_forward(bn, half)
    out[f"codes{rank}"] = sinkhorn_knopp(half, 0.5, 3)
    z1 = half.clone().requires_grad_()
    loss = nt_xent_pair(z1, half.flip(1), 0.5)
    loss.backward()
    out[f"loss{rank}"], out[f"grad{rank}"] = loss.detach(), z1.grad
    dist.destroy_process_group()


def test_two_ranks_shuffle_bn_sinkhorn_and_nt_xent_equal_one_process(monkeypatch):
    torch.manual_seed(3)
    x = torch.randn(8, 5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = mp.Manager().dict()
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    mp.spawn(_two_rank_worker, args=(port, x, out), nprocs=2)
    lin = nn.Linear(5, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.arange(15.0).view(3, 5) / 10)
        lin.bias.zero_()
        want = lin(x)
    torch.testing.assert_close(torch.cat([out["shuffled0"], out["shuffled1"]]), want)  # unshuffle restores order
    unshuffled_bn = torch.cat([nn.BatchNorm1d(5)(x[:4]), nn.BatchNorm1d(5)(x[4:])]).detach()
    assert not torch.allclose(torch.cat([out["bn0"], out["bn1"]]), unshuffled_bn)  # BN saw other ranks' samples
    torch.testing.assert_close(torch.cat([out["codes0"], out["codes1"]]), sinkhorn_knopp(x, 0.5, 3))
    z1 = x.clone().requires_grad_()
    loss = nt_xent_pair(z1, x.flip(1), 0.5)
    loss.backward()
    torch.testing.assert_close((out["loss0"] + out["loss1"]) / 2, loss.detach())
    # each rank's gradient is the world size times its share of the global loss's (DDP then averages)
    torch.testing.assert_close(torch.cat([out["grad0"], out["grad1"]]) / 2, z1.grad)
