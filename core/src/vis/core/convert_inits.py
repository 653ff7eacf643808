"""The four pre-trained initialisations of a detection ViT trunk (DetViT) that BenchDet compares, each read
by its own key layout and refused with one line when the file is of another kind:

- supervised: a timm-named ViT classifier (vis mae-finetune / fine-tune output, DeiT): `head.*`, `norm.*` /
  `fc_norm.*` and `cls_token` dropped;
- mocov3: a mocov3-export backbone file (vis-backbone/1, kind vit) or a MoCo v3 pre-training file
  (`base_encoder.*`, official under `module.`): the query encoder, projector `head.*` dropped;
- beit: BEiT's released layout (`blocks.i.gamma_1/2`, `attn.q_bias` / `attn.v_bias` with a bias-free
  `attn.qkv`, per-block `attn.relative_position_bias_table` or one shared `rel_pos_bias.*`): layer scale,
  fused qkv bias with a zero k bias, and the bias tables averaged over the blocks of each attention type
  (window / global; the paper does not give the rule) and resized; the absolute position table starts
  random as the paper says (a `pos_embed`, if present, is dropped);
- mae: vis mae-pretrain or the official encoder file (vis.core.convert_det).

Every kind but BEiT leaves the shared bias tables at zero, and layer scale (when the trunk has it) at its
initial value. The patch kernel is resampled and the position table resized as for MAE."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from vis.core.convert import BACKBONE_FORMAT, StateDict, model_state, read_checkpoint, strict_load, under_prefix
from vis.core.convert_det import DROPPED, fit_patch_and_pos, mae_to_det_vit
from vis.core.errors import UserError
from vis.core.models.rel_bias import resize_rel_bias_table

EXPECTED = {
    "supervised": "a ViT classifier with head.weight (mae-finetune output or DeiT)",
    "mocov3": "a mocov3-export backbone file or a MoCo v3 pre-training file (base_encoder.*)",
    "beit": "BEiT's layout (blocks.i.gamma_1, attn.q_bias, relative_position_bias_table)",
    "mae": "an MAE pre-training file (vis encoder.* / decoder.*, or the official encoder without a head)",
}
BEIT_DROPPED = {"cls_token", "mask_token", "pos_embed", "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias",
                "lm_head.weight", "lm_head.bias", "head.weight", "head.bias", "rel_pos_bias.relative_position_index"}


def checkpoint_kind(state: dict, sd: StateDict) -> str:
    """Which pre-training wrote these weights, read from the key layout: beit | mocov3 | mae | supervised |
    detector | unknown. (A ViT backbone file is MoCo v3's: mocov3-export is what writes ViT backbone files.)"""
    if state.get("format") == BACKBONE_FORMAT:
        return "mocov3" if state.get("arch", {}).get("kind") == "vit" else "unknown"
    if any(k.endswith(("gamma_1", "attn.q_bias", "relative_position_bias_table")) for k in sd):
        return "beit"
    if any(k.startswith(("base_encoder.", "module.base_encoder.")) for k in sd):
        return "mocov3"
    if "rpn.head.conv.0.0.weight" in sd:
        return "detector"
    if any(k.startswith(("encoder.", "decoder")) for k in sd) or "mask_token" in sd:
        return "mae"
    if "blocks.0.attn.qkv.weight" in sd or "module.blocks.0.attn.qkv.weight" in sd:
        return "supervised" if any(k.removeprefix("module.") == "head.weight" for k in sd) else "mae"
    return "unknown"


def beit_to_det_vit(sd: StateDict, trunk: nn.Module) -> StateDict:
    """BEiT keys -> DetViT keys (see the module doc)."""
    out: StateDict = {}
    tables: dict[int, torch.Tensor] = {}
    shared = sd.get("rel_pos_bias.relative_position_bias_table")
    for k, v in sd.items():
        if k in BEIT_DROPPED or k.endswith(("relative_position_index", "attn.v_bias")) or k == \
                "rel_pos_bias.relative_position_bias_table":
            continue
        if k.endswith("attn.relative_position_bias_table"):
            tables[int(k.split(".")[1])] = v
        elif k.endswith("attn.q_bias"):
            v_bias = sd[k.replace("q_bias", "v_bias")]
            out[k.replace("q_bias", "qkv.bias")] = torch.cat([v, torch.zeros_like(v), v_bias])
        elif k.endswith(("gamma_1", "gamma_2")):
            out[k.replace("gamma_1", "ls1.gamma").replace("gamma_2", "ls2.gamma")] = v
        else:
            out[k] = v
    for name, is_window in (("rel_bias_window", True), ("rel_bias_global", False)):
        own = getattr(trunk, name, None)
        blocks = [i for i, b in enumerate(trunk.blocks) if (b.window_size > 0) == is_window]
        chosen = [tables[i] for i in blocks if i in tables] or ([shared] if shared is not None else [])
        if own is None or not chosen:
            continue  # no such table in the trunk (or none in the file): strict_load names what is left over
        out[f"{name}.relative_position_bias_table"] = torch.stack([_without_cls(t, own.size) for t in chosen]).mean(0)
    if (tables or shared is not None) and trunk.rel_bias_window is None and trunk.rel_bias_global is None:
        raise UserError("BEiT weights carry relative position bias tables", "rel_pos_bias",
                        "build the trunk with shared bias tables (--rel-pos-bias)")
    return fit_patch_and_pos(out, trunk)


def _without_cls(table: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A BEiT table [(2G-1)^2 + 3, heads] (3 cls rows last) resized to the (h, w) map of `size`."""
    side = round((table.shape[0] - 3) ** 0.5)
    if side * side + 3 == table.shape[0]:
        table = table[: side * side]
    else:
        side = round(table.shape[0] ** 0.5)
    grid = (side + 1) // 2
    return resize_rel_bias_table(table, (grid, grid), size)


def load_det_vit_kind(trunk: nn.Module, path: str | Path, kind: str) -> list[str]:
    """Load a `kind` checkpoint (supervised | mocov3 | beit | mae) into `trunk` strictly; a file of another
    kind is a one-line UserError. Returns the trunk keys left at initialisation."""
    source = str(path)
    state = read_checkpoint(path)
    sd = model_state(state, path)
    found = checkpoint_kind(state, sd)
    if found != kind:
        raise UserError(f"not a {kind} checkpoint (its keys look like {found})", source, f"expected {EXPECTED[kind]}")
    own = trunk.state_dict()
    fresh = {k for k in own if ".rel_pos_" in k or k.startswith("rel_bias_") or ".ls1." in k or ".ls2." in k}
    drop = set(DROPPED)
    if kind == "beit":
        enc = beit_to_det_vit(sd, trunk)
        fresh = {"pos_embed"} | {k for k in own if ".rel_pos_" in k}
    else:
        if kind == "mocov3":
            sd = {k: v for k, v in (under_prefix(sd, "module.base_encoder.") or under_prefix(sd, "base_encoder.")
                                    or sd).items() if not k.startswith("head.")}
        enc = mae_to_det_vit(sd, trunk)
        drop |= {"dist_token", "head_dist.weight", "head_dist.bias"}
    strict_load(trunk, enc, source, may_miss=fresh, may_drop=drop)
    return sorted(set(own) - set(enc))
