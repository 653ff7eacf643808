"""Relational layers and models: the complete graph is the dense layer, the mask acts in the forward pass and
no gradient reaches a masked weight, channels are split over nodes as the paper's code does, and FLOPs
matching reaches the dense model's multiply-adds from above with the smallest width."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from vis.relgraph.graphs import GraphRow
from vis.relgraph.layers import RelationalConv2d, RelationalLinear, channel_mask, masked_macs, node_sizes
from vis.relgraph.models import build_model, matched_width

BEST_MLP = GraphRow(64, 0.12800088, 0.12806344, 4)


def test_complete_graph_gives_exactly_the_dense_layers():
    full = np.ones((8, 8))
    lin, dense = RelationalLinear(24, 40, full, bias=True), nn.Linear(24, 40)
    dense.load_state_dict({"weight": lin.weight, "bias": lin.bias})
    x = torch.randn(5, 24)
    assert torch.equal(lin(x), dense(x))
    conv, dconv = RelationalConv2d(16, 24, 3, full, padding=1), nn.Conv2d(16, 24, 3, padding=1, bias=False)
    dconv.weight.data.copy_(conv.weight)
    y = torch.randn(2, 16, 6, 6)
    assert torch.equal(conv(y), dconv(y)) and lin.density == conv.density == 1.0


def test_mask_acts_in_forward_and_masked_weights_get_no_gradient():
    adj = GraphRow(8, 0.5, 0.2, 3).adjacency()
    layer = RelationalLinear(16, 16, adj)
    x = torch.randn(4, 16)
    before = layer(x)
    masked = layer.mask == 0
    assert masked.any()
    with torch.no_grad():
        layer.weight[masked] = 123.0  # masked weights do not matter
    torch.testing.assert_close(layer(x), before, rtol=0, atol=0)
    layer(x).pow(2).sum().backward()
    assert torch.all(layer.weight.grad[masked] == 0) and layer.weight.grad[~masked].abs().sum() > 0
    conv = RelationalConv2d(16, 8, 3, adj, padding=1)
    conv(torch.randn(2, 16, 5, 5)).sum().backward()
    assert torch.all(conv.weight.grad[conv.mask.expand_as(conv.weight) == 0] == 0)
    assert conv.mask.device == conv.weight.device  # a buffer: it moves with .to(device)
    assert "mask" in dict(conv.named_buffers()) and "mask" not in dict(conv.named_parameters())


def test_channels_are_split_evenly_over_nodes_on_a_fixed_permutation():
    sizes = node_sizes(70, 64)
    assert sizes.sum() == 70 and set(sizes) == {1, 2} and (sizes == 2).sum() == 6
    assert np.array_equal(sizes, np.random.RandomState(1).permutation([2] * 6 + [1] * 58))
    adj = GraphRow(8, 0.5, 0.2, 3).adjacency()
    mask = channel_mask(adj, 20, 12).numpy()
    out_node = np.repeat(np.arange(8), node_sizes(20, 8))
    in_node = np.repeat(np.arange(8), node_sizes(12, 8))
    assert all(mask[i, j] == adj[out_node[i], in_node[j]] for i in range(20) for j in range(12))


def test_mlp_flops_matching_reaches_the_dense_baseline_from_above_with_the_smallest_width():
    full = np.ones((64, 64))
    with torch.device("meta"):
        baseline = masked_macs(build_model("mlp", 512, full, 10, 32), (3, 32, 32))
    assert baseline == 2_364_416  # 3072 x 512 + 3 x 512^2 + 512 x 10, the paper's CIFAR-10 MLP
    adj = BEST_MLP.adjacency()
    w = matched_width("mlp", adj, 10, 32)
    with torch.device("meta"):
        at, below = (masked_macs(build_model("mlp", x, adj, 10, 32), (3, 32, 32)) for x in (w, w - 1))
    assert below < baseline <= at
    # the reference: k ~ 8 gives w ~ 1520 to 1540 (computed); the paper's stored runs record 1539 for this graph
    assert 1520 <= w <= 1540


def test_relational_resnets_keep_stem_and_classifier_dense_and_mask_every_stage_conv():
    adj = GraphRow(64, 0.14, 0.25, 3).adjacency()
    with torch.device("meta"):
        net = build_model("resnet34", 64, adj, 1000, 224)
        sep = build_model("resnet34sep", 64, adj, 1000, 224)
        dense = build_model("resnet34", 64, np.ones((64, 64)), 1000, 224)
    assert type(net.conv1) is nn.Conv2d and type(net.fc) is nn.Linear
    assert isinstance(net.layer2[0].conv1, RelationalConv2d) and isinstance(net.layer2[0].downsample[0],
                                                                             RelationalConv2d)
    assert sep.layer1[0].conv1[0].groups == 64 and isinstance(sep.layer1[0].conv1[1], RelationalConv2d)
    assert masked_macs(dense, (3, 224, 224)) == pytest.approx(3.66e9, rel=0.01)  # torchvision's ResNet-34
    assert masked_macs(net, (3, 224, 224)) < 0.3 * masked_macs(dense, (3, 224, 224))  # density ~ 0.155
