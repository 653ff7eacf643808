"""SimSiam checkpoints in and out: vis simsiam-pretrain checkpoints (`encoder.*`, `predictor.*`), the
official files (`module.encoder.*`, `module.predictor.*` under `state_dict`) and plain backbone files
(vis.core.convert.save_backbone), loaded key by key."""

from __future__ import annotations

import torch.nn as nn

from vis.core.convert import StateDict, strict_load, under_prefix
from vis.core.errors import UserError

HEAD = ("fc.weight", "fc.bias")


def _kind(sd: StateDict) -> str:
    if any(k.startswith("module.encoder.") for k in sd):
        return "official"
    if any(k.startswith("encoder.") for k in sd) and any(k.startswith("predictor.") for k in sd):
        return "vis"
    if "conv1.weight" in sd and any(k.startswith("layer1.") for k in sd):
        return "backbone"
    return "other"


def _wrong_kind(source: str) -> UserError:
    return UserError("not a SimSiam checkpoint or ResNet backbone file", source,
                     "expected encoder.* / module.encoder.* keys (simsiam-pretrain or the official release) or a "
                     "vis backbone file of a ResNet; MAE and MoCo v3 files go to their own -linprobe command")


def load_backbone(backbone: nn.Module, sd: StateDict, source: str) -> list[str]:
    """Initialise a torchvision-named ResNet from a SimSiam file: the encoder without its projector (`fc.*`),
    strictly. Returns the backbone keys left at init (fc.weight / fc.bias when the model has a classifier)."""
    kind = _kind(sd)
    if kind == "other":
        raise _wrong_kind(source)
    enc = {"official": lambda: under_prefix(sd, "module.encoder."), "vis": lambda: under_prefix(sd, "encoder."),
           "backbone": lambda: dict(sd)}[kind]()
    enc = {k: v for k, v in enc.items() if not k.startswith("fc.")}
    strict_load(backbone, enc, source, may_miss=set(HEAD))
    return sorted(set(backbone.state_dict()) - set(enc))


def load_simsiam(model: nn.Module, sd: StateDict, source: str) -> None:
    """Load a whole pre-training checkpoint (encoder with projector, and predictor) into a SimSiam model,
    strictly; the official `module.` prefix is removed. Parameters keep their requires_grad flags, so the
    projector's re-used fc bias stays frozen."""
    kind = _kind(sd)
    if kind not in ("official", "vis"):
        raise _wrong_kind(source)
    strict_load(model, under_prefix(sd, "module.") if kind == "official" else sd, source)
