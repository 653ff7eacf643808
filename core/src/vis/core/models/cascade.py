"""Cascade R-CNN RoI heads (Cai & Vasconcelos, 2018) on torchvision's RoIHeads, as detectron2 runs them:
three stages with their own box heads and class-agnostic regression at IoU 0.5 / 0.6 / 0.7 (no low-quality
matches), stage k > 0 refining the previous stage's boxes (detached, clipped; empty ones dropped in
training; re-matched, not re-sampled), pooled features gradient-scaled by 1 / stages, test scores averaged
over the stages and boxes from the last; the mask head runs on the sampled proposals (training) or the final
detections (test)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.roi_heads import RoIHeads, maskrcnn_inference, maskrcnn_loss
from torchvision.ops import box_iou
from torchvision.ops import boxes as box_ops

from vis.core.models.rcnn import CASCADE_IOUS, CASCADE_WEIGHTS


class AgnosticPredictor(nn.Module):
    """Class scores (K + 1) and one class-agnostic box delta per RoI."""

    def __init__(self, in_dim: int, num_classes: int):
        super().__init__()
        self.cls_score, self.bbox_pred = nn.Linear(in_dim, num_classes + 1), nn.Linear(in_dim, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.flatten(1)
        return self.cls_score(x), self.bbox_pred(x)


def scale_grad(x: torch.Tensor, s: float) -> torch.Tensor:
    """Identity forward, gradient times `s` backward."""
    return x * s + (x * (1 - s)).detach()


class CascadeRoIHeads(RoIHeads):
    """Three-stage cascade box heads plus torchvision's mask branch (see the module doc)."""

    @classmethod
    def from_roi_heads(cls, h: RoIHeads, box_heads: Sequence[nn.Module], num_classes: int, fc_dim: int,
                       ious: Sequence[float] = CASCADE_IOUS, weights=CASCADE_WEIGHTS) -> CascadeRoIHeads:
        s = h.fg_bg_sampler
        self = cls(h.box_roi_pool, None, None, ious[0], ious[0], s.batch_size_per_image, s.positive_fraction,
                   weights[0], h.score_thresh, h.nms_thresh, h.detections_per_img, h.mask_roi_pool, h.mask_head,
                   h.mask_predictor)
        self.box_heads = nn.ModuleList(box_heads)
        self.box_predictors = nn.ModuleList(AgnosticPredictor(fc_dim, num_classes) for _ in box_heads)
        self.matchers = [det_utils.Matcher(t, t, allow_low_quality_matches=False) for t in ious]
        self.coders = [det_utils.BoxCoder(w) for w in weights]
        return self

    def _match(self, k: int, proposals: list[torch.Tensor], targets: list[dict]):
        labels, reg_targets = [], []
        for props, t in zip(proposals, targets, strict=True):
            if t["boxes"].numel() == 0:
                labels.append(torch.zeros(len(props), dtype=torch.int64, device=props.device))
                reg_targets.append(torch.zeros_like(props))
                continue
            idx = self.matchers[k](box_iou(t["boxes"], props))
            lab = t["labels"][idx.clamp(min=0)]
            lab[idx < 0] = 0
            labels.append(lab)
            reg_targets.append(self.coders[k].encode_single(t["boxes"][idx.clamp(min=0)], props))
        return labels, reg_targets

    def _stage(self, k: int, features, proposals, image_shapes):
        feats = self.box_roi_pool(features, proposals, image_shapes)
        if self.training:
            feats = scale_grad(feats, 1.0 / len(self.box_heads))
        return self.box_predictors[k](self.box_heads[k](feats))

    def _refine(self, k: int, deltas: torch.Tensor, proposals: list[torch.Tensor], image_shapes):
        boxes = self.coders[k].decode_single(deltas.detach(), torch.cat(proposals))
        out = [box_ops.clip_boxes_to_image(b, s) for b, s in zip(boxes.split([len(p) for p in proposals]),
                                                                  image_shapes, strict=True)]
        if self.training:
            out = [b[(b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])] for b in out]
        return out

    def forward(self, features, proposals, image_shapes, targets=None):
        losses, result = {}, []
        if self.training:
            proposals, matched_idxs, labels, reg_targets = self.select_training_samples(proposals, targets)
            mask_props = [p[lab > 0] for p, lab in zip(proposals, labels, strict=True)]
            mask_idxs = [m[lab > 0] for m, lab in zip(matched_idxs, labels, strict=True)]
        props, probs, deltas = proposals, [], None
        for k in range(len(self.box_heads)):
            if k > 0:
                props = self._refine(k - 1, deltas, props, image_shapes)
                if self.training:
                    labels, reg_targets = self._match(k, props, targets)
            logits, deltas = self._stage(k, features, props, image_shapes)
            if self.training:
                losses.update(self._loss(k, logits, deltas, labels, reg_targets))
            else:
                probs.append(F.softmax(logits, -1))
        if not self.training:
            last = self._refine(len(self.box_heads) - 1, deltas, props, image_shapes)
            result = self._detections(torch.stack(probs).mean(0), last, image_shapes)
            mask_props = [r["boxes"] for r in result]
        feats = self.mask_head(self.mask_roi_pool(features, mask_props, image_shapes))
        mask_logits = self.mask_predictor(feats)
        if self.training:
            losses["loss_mask"] = maskrcnn_loss(mask_logits, mask_props, [t["masks"] for t in targets],
                                                [t["labels"] for t in targets], mask_idxs)
        else:
            for m, r in zip(maskrcnn_inference(mask_logits, [r["labels"] for r in result]), result, strict=True):
                r["masks"] = m
        return result, losses

    def _loss(self, k: int, logits, deltas, labels, reg_targets) -> dict[str, torch.Tensor]:
        labels, reg_targets = torch.cat(labels), torch.cat(reg_targets)
        pos = labels > 0
        box = F.smooth_l1_loss(deltas[pos], reg_targets[pos], beta=1 / 9, reduction="sum") / max(labels.numel(), 1)
        return {f"loss_classifier_s{k}": F.cross_entropy(logits, labels), f"loss_box_reg_s{k}": box}

    def _detections(self, scores: torch.Tensor, boxes: list[torch.Tensor], image_shapes) -> list[dict]:
        """torchvision's post-processing with class-agnostic boxes: score threshold, small boxes removed,
        per-class NMS, top detections."""
        out = []
        for s, b in zip(scores.split([len(x) for x in boxes]), boxes, strict=True):
            k = s.shape[1] - 1
            s, lab = s[:, 1:].reshape(-1), torch.arange(1, k + 1, device=s.device).repeat(len(b))
            b = b[:, None].expand(-1, k, 4).reshape(-1, 4)
            keep = torch.where(s > self.score_thresh)[0]
            b, s, lab = b[keep], s[keep], lab[keep]
            keep = box_ops.remove_small_boxes(b, 1e-2)
            b, s, lab = b[keep], s[keep], lab[keep]
            keep = box_ops.batched_nms(b, s, lab, self.nms_thresh)[: self.detections_per_img]
            out.append({"boxes": b[keep], "labels": lab[keep], "scores": s[keep]})
        return out
