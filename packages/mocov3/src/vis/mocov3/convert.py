"""MoCo v3 checkpoints into vis-core models, with strict key accounting.

Three layouts are read: a vis mocov3-pretrain checkpoint (`base_encoder.*`, `momentum_encoder.*`,
`predictor.*`), an official pre-training file (the same under `module.`, in `state_dict`), and a plain
backbone file written by `save_backbone` (format vis-backbone/1, timm / torchvision names). Anything else
(an MAE or SimSiam checkpoint, a MoCo v3 linear-classification file) is refused with one line.
"""

from __future__ import annotations

import torch.nn as nn

from vis.core import checkpoint as ckpt
from vis.core.convert import BACKBONE_FORMAT, StateDict, strict_load, under_prefix
from vis.core.errors import UserError
from vis.core.models.backbone import head_name

OFFICIAL_PREFIX = "module."
WRONG_KIND = ("expected a MoCo v3 pre-training file (keys base_encoder.* or module.base_encoder.*) or a "
              "backbone file written by mocov3-export")


def full_model_weights(sd: StateDict, source: str) -> StateDict:
    """The MoCoV3 state dict (base_encoder / momentum_encoder / predictor keys) of a vis or official file."""
    if any(k.startswith(OFFICIAL_PREFIX + "base_encoder.") for k in sd):
        sd = under_prefix(sd, OFFICIAL_PREFIX)
    if not any(k.startswith("base_encoder.") for k in sd):
        raise UserError("not a MoCo v3 pre-training checkpoint", source, WRONG_KIND)
    return sd


def _is_backbone_file(source: str) -> bool:
    try:
        return ckpt.load(source).get("format") == BACKBONE_FORMAT
    except UserError:
        return False


def backbone_weights(sd: StateDict, source: str) -> StateDict:
    """The backbone's own keys (with the projector, if the file has one) of any accepted layout."""
    if any(k.startswith(("base_encoder.", OFFICIAL_PREFIX + "base_encoder.")) for k in sd):
        return under_prefix(full_model_weights(sd, source), "base_encoder.")
    if any(k.startswith(("encoder.", "module.", "momentum_encoder.")) for k in sd) or not _is_backbone_file(source):
        raise UserError("not a MoCo v3 checkpoint", source, WRONG_KIND)
    return dict(sd)


def load_backbone(backbone: nn.Module, sd: StateDict, source: str) -> list[str]:
    """Load a MoCo v3 backbone (the linear probe's loader): the projector (`head.*` / `fc.*`) is dropped
    unless the backbone has a head of the same shapes; every other key must match. Returns the backbone
    keys left at their initial values (its own head, if any)."""
    weights = backbone_weights(sd, source)
    head = head_name(backbone) + "."
    own = backbone.state_dict()
    fits = all(k in own and own[k].shape == v.shape for k, v in weights.items() if k.startswith(head))
    if not fits:
        weights = {k: v for k, v in weights.items() if not k.startswith(head)}
    strict_load(backbone, weights, source, may_miss={k for k in own if k.startswith(head)})
    return sorted(set(own) - set(weights))


def load_pretrain(model: nn.Module, sd: StateDict, source: str) -> None:
    """Load a whole MoCoV3 (base encoder with projector, momentum encoder, predictor) strictly from a vis
    or official pre-training file."""
    strict_load(model, full_model_weights(sd, source), source)
