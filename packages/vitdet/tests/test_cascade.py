"""Cascade Mask R-CNN's stages on toy boxes: IoU 0.5 / 0.6 / 0.7 without low-quality matches, class-agnostic
regression with the stage weights, pooled features gradient-scaled by 1/3, stage k > 0 re-matching the
refined boxes, test scores averaged over the stages."""

import torch

from vis.core.config import ViTOptions
from vis.core.models.cascade import scale_grad
from vis.vitdet.config import DetectorOptions
from vis.vitdet.model import build_detector


def tiny_cascade():
    det = DetectorOptions(window_size=4, global_blocks=[1], pretrain_img_size=64, cascade=True, head_channels=16,
                          fc_dim=32, anchor_sizes=[8, 16, 32, 64, 128], num_classes=2, rois_per_image=16,
                          rpn_post_nms=50, detections_per_img=10)
    torch.manual_seed(0)
    return build_detector(ViTOptions(patch_size=8, embed_dim=32, depth=2, num_heads=2), det, 64)


def test_stage_settings_and_gradient_scale():
    heads = tiny_cascade().roi_heads
    assert [m.high_threshold for m in heads.matchers] == [0.5, 0.6, 0.7]
    assert not any(m.allow_low_quality_matches for m in heads.matchers)
    assert [c.weights for c in heads.coders] == [(10.0, 10.0, 5.0, 5.0), (20.0, 20.0, 10.0, 10.0),
                                                 (30.0, 30.0, 15.0, 15.0)]
    assert all(p.bbox_pred.out_features == 4 for p in heads.box_predictors)  # class-agnostic
    x = torch.ones(3, requires_grad=True)
    scale_grad(x, 1 / 3).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((3,), 1 / 3))


def test_rematching_and_averaged_scores():
    model = tiny_cascade()
    heads = model.roi_heads
    gt = {"boxes": torch.tensor([[10.0, 10, 30, 30]]), "labels": torch.tensor([2])}
    props = [torch.tensor([[10.0, 10, 30, 31], [10, 10, 30, 40], [40, 40, 60, 60]])]  # IoU 0.95, 0.67, 0
    labels = [heads._match(k, props, [gt])[0][0].tolist() for k in range(3)]
    assert labels == [[2, 2, 0], [2, 2, 0], [2, 0, 0]]  # 0.67 is foreground at 0.5 and 0.6, not at 0.7
    images = [torch.rand(3, 64, 64)]
    model.eval()
    probs = []
    orig = heads._stage

    def spy(k, *a):
        logits, deltas = orig(k, *a)
        probs.append(torch.softmax(logits, -1))
        return logits, deltas
    heads._stage = spy
    with torch.no_grad():
        out = model(images)[0]
    assert len(probs) == 3
    mean = torch.stack(probs).mean(0)
    if len(out["scores"]):
        assert torch.isclose(mean[:, 1:].reshape(-1), out["scores"][0]).any()  # scores come from the mean
    model.train()
    masks = torch.zeros(1, 64, 64, dtype=torch.uint8)
    masks[0, 10:30, 10:30] = 1
    losses = model(images, [{**gt, "masks": masks}])
    assert {f"loss_classifier_s{k}" for k in range(3)} <= set(losses) and "loss_mask" in losses
    assert all(torch.isfinite(v) for v in losses.values())
