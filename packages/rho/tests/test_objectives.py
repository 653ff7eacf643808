"""The four objectives: their losses at initialisation against the theoretical values, where gradients stop,
the MoCo queue warm-up, SwAV's frozen first-epoch prototypes, the pairs of clips each uses, and the
sequential multi-view step giving the gradients of the all-at-once step."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.rho.model import build_model


def grads(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def step(model, views, sequential=True):
    return model.step(model, views, lambda loss: loss.backward(), sequential)


def test_moco_initial_loss_is_log_of_queue_plus_one_and_nothing_updates_before_the_queue_is_full(config, make_clips):
    torch.manual_seed(0)
    model = build_model(config("moco", temperature=1e4))  # flat logits: exactly ln(1 + L)
    x = make_clips(2, 8)
    out = step(model, x)
    assert abs(out["loss"].item() - math.log(65)) < 1e-3
    assert not grads(model) and int(model.queue.ptr) == 16  # 2 clips x 8 keys enqueued, no gradient yet
    for _ in range(3):
        step(model, x)
    assert model.queue.filled and not grads(model) and int(model.queue.ptr) == 0  # 64 slots written, wrapped
    step(model, x)
    assert grads(model)  # the 5th step, the first with a full queue, trains


def test_simclr_initial_loss_is_log_of_2n_minus_1(config, make_clips):
    torch.manual_seed(0)
    model = build_model(config("simclr", temperature=1e4))
    assert abs(step(model, make_clips(2, 8))["loss"].item() - math.log(15)) < 1e-3


def test_swav_initial_loss_is_log_of_prototypes_and_prototypes_stay_frozen_in_epoch_one(config, make_clips):
    torch.manual_seed(0)
    model = build_model(config("swav", temperature=1e4))
    out = step(model, make_clips(2, 8))
    assert abs(out["loss"].item() - math.log(10)) < 1e-3
    assert model.prototypes.weight.grad is None and grads(model)
    torch.testing.assert_close(model.prototypes.weight.norm(dim=1), torch.ones(10))  # rows normalised
    model.progress.fill_(1.0)
    step(model, make_clips(2, 8))
    assert model.prototypes.weight.grad is not None


def test_byol_initial_loss_is_minus_two_cos_and_the_momentum_branch_gets_no_gradient(config, make_clips):
    torch.manual_seed(0)
    model = build_model(config("byol"))
    x = make_clips(2, 8)
    with torch.no_grad():
        model.train()
        p = [F.normalize(model.online(v), dim=1) for v in x]
        k = [F.normalize(model.momentum_encoder(v), dim=1) for v in x]
    want = (-2 * (p[0] * k[1]).sum(1).mean() - 2 * (p[1] * k[0]).sum(1).mean()) / 2
    out = step(model, x)
    assert -2 <= out["loss"].item() <= 2
    torch.testing.assert_close(out["loss"], want, rtol=1e-4, atol=1e-5)
    assert all(not p.requires_grad and p.grad is None for p in model.momentum_encoder.parameters())
    assert grads(model).keys() == {n for n, p in model.named_parameters() if p.requires_grad}
    before = [p.clone() for p in model.momentum_encoder.parameters()]
    for p in model.encoder.parameters():
        p.data.add_(1.0)
    model.after_step(1, 0.5)  # EMA with m(0.5 epochs) of the cosine schedule
    m = model.momentum_at(0.5)
    assert 0.996 < m < 1
    first = next(model.momentum_encoder.parameters())
    torch.testing.assert_close(first, m * before[0] + (1 - m) * next(model.encoder.parameters()))


def test_heads_follow_the_reference_layout(config, make_clips):
    def bns(m):
        return sum(isinstance(x, nn.BatchNorm1d) for x in m.modules())

    linears = lambda m: [x for x in m.modules() if isinstance(x, nn.Linear)]
    moco = build_model(config("moco"))
    assert len(linears(moco.encoder.projection)) == 3 and bns(moco.encoder.projection) == 0
    byol = build_model(config("byol"))
    assert len(linears(byol.encoder.projection)) == len(linears(byol.predictor)) == 2
    assert bns(byol.encoder.projection) == bns(byol.predictor) == 1
    assert bns(build_model(config("simclr")).encoder.projection) == 2
    assert bns(build_model(config("simclr", mlp_bn=False)).encoder.projection) == 0
    swav = build_model(config("swav"))
    assert swav.prototypes.bias is None and swav.prototypes.weight.shape == (10, 16)


def test_all_pairs_by_default_and_adjacent_pairs_for_parity(config, make_clips):
    model = build_model(config("simclr", rho=4))
    assert len(model.view_pairs(4)) == 12
    model.pairs = "adjacent"
    assert model.view_pairs(4) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]


@pytest.mark.parametrize("method", ["moco", "byol", "simclr", "swav"])
def test_sequential_step_gives_the_gradients_of_the_all_at_once_step(method, config, make_clips):
    torch.manual_seed(0)
    a = build_model(config(method, rho=3))
    if method == "moco":
        a.queue.filled.fill_(True)
    if method == "swav":
        a.progress.fill_(1.0)
    b = build_model(config(method, rho=3))
    b.load_state_dict(a.state_dict())
    x = make_clips(3, 6)
    torch.manual_seed(1)
    la = step(a, x, sequential=True)["loss"]
    torch.manual_seed(1)
    lb = step(b, x, sequential=False)["loss"]
    torch.testing.assert_close(la, lb, rtol=1e-5, atol=1e-6)
    ga, gb = grads(a), grads(b)
    assert ga.keys() == gb.keys() and len(ga) > 10
    for k in ga:
        torch.testing.assert_close(ga[k], gb[k], rtol=1e-4, atol=1e-6, msg=k)
    # the extra no-grad pass of gradient caching leaves BN running statistics as one pass would
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        if "running" in k or "num_batches" in k:
            torch.testing.assert_close(va, vb, rtol=1e-4, atol=1e-6, msg=k)
