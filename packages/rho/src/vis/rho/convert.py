"""Backbone weights for rho-linprobe / rho-finetune: vis rho-pretrain checkpoints and the released SlowFast
contrastive checkpoints (reference section 3, item 28), loaded strictly into the core Slow-R50.

SlowFast layout (`model_state` of a .pyth file): `backbone.s1.pathway0_stem.{conv,bn}`, then stages s2..s5
with blocks `pathway0_res{i}` holding `branch1` / `branch1_bn` (projection shortcut) and `branch2.{a,b,c}` /
`branch2.{a,b,c}_bn`; besides the backbone the file holds the projection / predictor heads
(`backbone.head.*`), the momentum copy (`backbone_hist.*`), MoCo's queue (`queue_x`, `ptr`), SwAV's
prototypes (`swav_prototypes`) and the kNN memory (`knn_mem.*`), all dropped for downstream use. The name
table below maps every backbone key; anything unaccounted for is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch.nn as nn

from vis.core.convert import StateDict, read_weights, strict_load, under_prefix
from vis.core.errors import UserError

BLOCK = {"branch1": "downsample.0", "branch1_bn": "downsample.1", "branch2.a": "conv1", "branch2.a_bn": "bn1",
         "branch2.b": "conv2", "branch2.b_bn": "bn2", "branch2.c": "conv3", "branch2.c_bn": "bn3"}
STEM = {"conv": "conv1", "bn": "bn1"}
DROPPED = ("head.", "backbone_hist.", "queue_x", "ptr", "swav_prototypes", "knn_mem.", "predictor")
"""Key prefixes of a SlowFast contrastive file that are not part of the backbone (after `backbone.`)."""


def slowfast_name(key: str) -> str | None:
    """The core Slow-R50 name of a SlowFast backbone key (without `backbone.`), or None when it is not one."""
    m = re.fullmatch(r"s1\.pathway0_stem\.(conv|bn)\.(\w+)", key)
    if m:
        return f"{STEM[m.group(1)]}.{m.group(2)}"
    m = re.fullmatch(r"s([2-5])\.pathway0_res(\d+)\.(branch1|branch1_bn|branch2\.[abc]|branch2\.[abc]_bn)\.(\w+)", key)
    if m:
        return f"layer{int(m.group(1)) - 1}.{m.group(2)}.{BLOCK[m.group(3)]}.{m.group(4)}"
    return None


def from_slowfast(sd: StateDict, source: str) -> StateDict:
    """Rename a SlowFast contrastive (or supervised Slow-R50) state dict to core names; keys outside the
    backbone are dropped only when they belong to a known family (DROPPED), anything else is an error."""
    sd = {k.removeprefix("module."): v for k, v in sd.items()}
    out, unknown = {}, []
    for key, value in sd.items():
        inner = key.removeprefix("backbone.")
        name = slowfast_name(inner)
        if name is not None and not key.startswith("backbone_hist."):
            out[name] = value
        elif not inner.startswith(DROPPED) and not key.startswith(DROPPED):
            unknown.append(key)
    if unknown:
        raise UserError(f"keys outside the Slow-R50 name table: {', '.join(sorted(unknown)[:6])}", source,
                        "give a SlowFast Slow-R50 (contrastive or supervised) checkpoint")
    return out


def backbone_state(sd: StateDict, source: str) -> StateDict:
    """Backbone weights in core names from a vis rho-pretrain checkpoint (`encoder.backbone.*`), a vis
    rho-finetune / linprobe checkpoint (backbone at the top level or under `encoder.`), or a SlowFast file."""
    if any(k.startswith("encoder.backbone.") for k in sd):
        return under_prefix(sd, "encoder.backbone.")
    if any(k.startswith(("s1.", "backbone.s1.", "module.backbone.s1.", "module.s1.")) for k in sd):
        return from_slowfast(sd, source)
    if any(k.startswith("encoder.conv1.") for k in sd):  # a rho-linprobe checkpoint
        return under_prefix(sd, "encoder.")
    if "conv1.weight" in sd and sd["conv1.weight"].ndim == 5:
        return sd
    raise UserError("not a video backbone checkpoint", source,
                    "give a rho-pretrain / rho-finetune checkpoint or a SlowFast Slow-R50 (.pyth) file")


def load_backbone(backbone: nn.Module, path: str | Path) -> None:
    """Load backbone weights strictly (every backbone key, every shape); a classifier head (`fc.*`) in the
    file is dropped and the model's own head left at its initialisation."""
    sd = backbone_state(read_weights(path), str(path))
    sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
    head = {k for k in backbone.state_dict() if k.startswith("fc.")}
    strict_load(backbone, sd, str(path), may_miss=head)
