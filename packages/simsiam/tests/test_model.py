"""SimSiam: exact sizes of the paper's ResNet-50 model and of each head, and the objective's properties
(symmetric, near 0 at init, minimum -1, gradient stopped at the target branch, frozen projector bias)."""

import math

import pytest
import torch

from vis.simsiam.model import SimSiam, objective, output_std, simsiam_loss

# reference section 5 (computed from the architecture)
R50_BACKBONE, PROJECTOR, PREDICTOR, TOTAL, TRAINABLE = 23_508_032, 12_593_152, 2_100_224, 38_201_408, 38_199_360


def count(params) -> int:
    return sum(p.numel() for p in params)


def tiny(**kw) -> SimSiam:
    return SimSiam(**{"depth": 18, "width": 8, "small_input": True, "dim": 64, "pred_dim": 16, **kw})


def test_paper_model_parameter_counts():
    with torch.device("meta"):
        m = SimSiam()
    backbone = [p for k, p in m.encoder.named_parameters() if not k.startswith("fc.")]
    assert count(backbone) == R50_BACKBONE
    assert count(m.encoder.fc.parameters()) == PROJECTOR
    assert count(m.predictor.parameters()) == PREDICTOR
    assert count(m.parameters()) == TOTAL
    assert count(p for p in m.parameters() if p.requires_grad) == TRAINABLE


def test_head_layouts_follow_the_official_builder():
    with torch.device("meta"):
        m = SimSiam()
    fc, pred = m.encoder.fc, m.predictor
    assert [type(x).__name__ for x in fc] == ["Linear", "BatchNorm1d", "ReLU"] * 2 + ["Linear", "BatchNorm1d"]
    assert [(x.in_features, x.out_features, x.bias is not None) for x in (fc[0], fc[3], fc[6])] == \
        [(2048, 2048, False), (2048, 2048, False), (2048, 2048, True)]
    assert not fc[6].bias.requires_grad and fc[6].weight.requires_grad
    assert not fc[7].affine and fc[1].affine and fc[4].affine
    assert [type(x).__name__ for x in pred] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert (pred[0].in_features, pred[0].out_features, pred[0].bias) == (2048, 512, None)
    assert (pred[3].in_features, pred[3].out_features, pred[3].bias.shape) == (512, 2048, (2048,))


def test_shapes_of_every_output():
    m = tiny()
    x1, x2 = torch.randn(2, 6, 3, 16, 16)
    p1, p2, z1, z2 = m(x1, x2)
    assert m.features(x1).shape == (6, 64) and all(t.shape == (6, 64) for t in (p1, p2, z1, z2))
    with torch.device("meta"):
        r50 = SimSiam()
        assert r50.features(torch.empty(2, 3, 224, 224)).shape == (2, 2048)
        assert all(t.shape == (2, 2048) for t in r50(torch.empty(2, 3, 224, 224), torch.empty(2, 3, 224, 224)))


def test_loss_is_symmetric_in_the_views():
    torch.manual_seed(0)
    p1, p2, z1, z2 = torch.randn(4, 8, 32)
    assert simsiam_loss(p1, p2, z1, z2) == simsiam_loss(p2, p1, z2, z1)
    m = tiny().eval()  # eval: each view's BN statistics would otherwise depend on the pass order only
    x1, x2 = torch.randn(2, 8, 3, 16, 16)
    torch.testing.assert_close(objective(m(x1, x2))["loss"], objective(m(x2, x1))["loss"])


def test_loss_is_near_zero_at_init_and_minus_one_at_its_minimum():
    torch.manual_seed(0)
    m = tiny()
    loss = objective(m(*torch.rand(2, 32, 3, 16, 16)))["loss"].item()
    assert abs(loss) < 0.1, loss  # random predictor output: nearly orthogonal to the other view's z
    z = torch.randn(8, 32)
    assert simsiam_loss(2 * z, 3 * z, z, z).item() == pytest.approx(-1.0)


def test_no_gradient_reaches_the_target_branch():
    torch.manual_seed(0)
    x1, x2 = torch.randn(2, 8, 3, 16, 16)
    for stop in (True, False):
        m = tiny(stop_gradient=stop)
        outs = []

        def keep(module, inputs, out):
            out.retain_grad()
            outs.append(out)
        m.encoder.fc.register_forward_hook(keep)
        p1, p2, z1, z2 = m(x1, x2)
        assert z1.requires_grad is not stop and z2.requires_grad is not stop
        simsiam_loss(p1, p2, z1, z2).backward()
        o1, at_z1 = outs[0], outs[0].grad.clone()  # autograd.grad below also accumulates into o1.grad
        # the gradient at view 1's projection through its own prediction p1 alone
        through_p1 = torch.autograd.grad(0.5 * -torch.cosine_similarity(m.predictor(o1), z2.detach()).mean(), o1)[0]
        if stop:  # the whole gradient at z1 came through p1: none through the target z1 of D(p2, z1)
            torch.testing.assert_close(at_z1, through_p1, rtol=1e-5, atol=1e-8)
        else:
            assert (at_z1 - through_p1).abs().max() > 1e-3


def test_reused_fc_bias_never_trains():
    m = tiny()
    bias = m.encoder.fc[6].bias.detach().clone()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1, momentum=0.9, weight_decay=1e-4)
    for _ in range(2):
        objective(m(*torch.randn(2, 8, 3, 16, 16)))["loss"].backward()
        opt.step()
    assert torch.equal(m.encoder.fc[6].bias, bias) and m.encoder.fc[6].bias.grad is None
    assert bias.abs().max() > 0  # torchvision's random init, not zeros


def test_collapse_monitor_is_one_over_sqrt_d_for_spread_outputs_and_zero_for_constant_ones():
    torch.manual_seed(0)
    d = 128
    assert output_std(torch.randn(4096, d)).item() == pytest.approx(1 / math.sqrt(d), rel=0.02)
    assert output_std(torch.randn(1, d).expand(64, d) * 5).item() < 1e-6
    assert output_std(torch.randn(1, d) + 1e-3 * torch.randn(64, d)).item() < 0.01 / math.sqrt(d)
