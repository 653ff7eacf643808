"""Initialising a detection ViT trunk (vis.core.models.vit_det.DetViT) from pre-trained checkpoints, with
explicit key accounting: an MAE checkpoint (vis mae-pretrain, official mae_pretrain_vit_*.pth, or a vis
backbone file) loads 1:1 by timm names; cls_token, the final norm, heads and the decoder are dropped; the
relative-position tables (decomposed or shared) are the only keys allowed to stay at their (zero)
initialisation. Any other missing
or extra key is an error. The patch kernel is resampled when its size differs (FlexiViT's pseudo-inverse
resize, timm's `resample_patch_embed`: how ViT-H/14 weights feed a patch-16 trunk) and the position table
is resized to the trunk's pre-training grid when its slot count differs."""

from __future__ import annotations

from pathlib import Path

import torch.nn as nn

from vis.core.convert import StateDict, read_weights, split_mae, strict_load
from vis.core.errors import UserError
from vis.core.models.pos_embed import resize_pos_embed

DROPPED = ("cls_token", "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias")


def mae_to_det_vit(sd: StateDict, trunk: nn.Module) -> StateDict:
    """MAE / timm ViT encoder keys -> DetViT keys (same names), with the patch kernel and position table
    fitted to `trunk`."""
    sd = {k.removeprefix("module."): v for k, v in sd.items()}
    enc, _ = split_mae(sd)
    return fit_patch_and_pos(dict(enc), trunk)


def fit_patch_and_pos(enc: StateDict, trunk: nn.Module) -> StateDict:
    """Resample the patch kernel and resize the position table of timm-named weights to `trunk`'s."""
    own = trunk.state_dict()
    w = enc.get("patch_embed.proj.weight")
    if w is not None and w.shape[-2:] != own["patch_embed.proj.weight"].shape[-2:]:
        from timm.layers import resample_patch_embed

        kernel = list(own["patch_embed.proj.weight"].shape[-2:])
        enc["patch_embed.proj.weight"] = resample_patch_embed(w.float(), kernel)
    pos = enc.get("pos_embed")
    if pos is not None and pos.shape != own["pos_embed"].shape:
        prefix = 1 if trunk.has_cls else 0
        grid = round((own["pos_embed"].shape[1] - prefix) ** 0.5)
        if trunk.has_cls and pos.shape[1] == grid * grid:  # a table without its cls slot
            raise UserError("position table without a cls slot", "pos_embed", "the trunk stores one (MAE layout)")
        enc["pos_embed"] = resize_pos_embed(pos, (grid, grid), prefix)
    return enc


def load_det_vit_init(trunk: nn.Module, path: str | Path) -> list[str]:
    """Load `path` into `trunk` strictly (see the module doc); returns the keys left at initialisation."""
    source = str(path)
    enc = mae_to_det_vit(read_weights(path), trunk)
    rel_pos = {k for k in trunk.state_dict() if ".rel_pos_" in k or k.startswith("rel_bias_")}
    strict_load(trunk, enc, source, may_miss=rel_pos, may_drop=set(DROPPED))
    return sorted(set(trunk.state_dict()) - set(enc))
