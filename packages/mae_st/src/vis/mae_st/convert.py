"""Released MAE-ST weights (and vis's own) into the vis models, with strict key accounting.

Two official layouts (reference section 3, items 22-25): mae_st `.pth` files ({"model", "args"}, attention
as separate q / k / v layers) and PySlowFast `.pyth` files ({"model_state", "cfg"}, fused qkv). Both store
the encoder flat (cls_token, pos_embed_{spatial,temporal,class}, patch_embed.proj, blocks.i, norm), the
decoder beside it (mask_token, decoder_*), and a fine-tuned file `head.*` with `norm` applied after the
mean pool. The architecture is read from the weights themselves, never from the file's argparse defaults
(wrong for the released models: mae_st#13).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import torch
import torch.nn as nn

from vis.core.convert import StateDict, check_fits, read_checkpoint, strict_load
from vis.core.errors import UserError
from vis.core.models.space_time import resize_separable

log = logging.getLogger("vis")
HEADS = {384: 6, 768: 12, 1024: 16, 1280: 16}
"""Heads per width of the released sizes (a head count cannot be read from the weights)."""
DECODER = ("mask_token", "decoder_")


def fuse_qkv(sd: StateDict) -> StateDict:
    """mae_st's `attn.{q,k,v}.{weight,bias}` concatenated into timm's `attn.qkv` (q, k, v order)."""
    out = {}
    for k, v in sd.items():
        m = re.fullmatch(r"(.*\.attn\.)([qkv])\.(weight|bias)", k)
        if m is None:
            out[k] = v
        elif m.group(2) == "q":
            prefix, kind = m.group(1), m.group(3)
            out[f"{prefix}qkv.{kind}"] = torch.cat([sd[f"{prefix}{x}.{kind}"] for x in "qkv"], dim=0)
    return out


def read_video_weights(path: str | Path) -> tuple[StateDict, dict]:
    """(weights in the flat official layout with fused qkv, info) of a vis or official MAE-ST file; info
    holds the architecture read from the weights and the sampling rate the file records, if any."""
    state = read_checkpoint(path)
    sd = state.get("model", state.get("model_state"))
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise UserError("no model weights in checkpoint", str(path), "expected 'model' or 'model_state'")
    if any(k.startswith("encoder.") for k in sd):  # vis maest-pretrain: encoder.* / decoder.*
        sd = {k.split(".", 1)[1]: v for k, v in sd.items() if k.startswith(("encoder.", "decoder."))}
    sd = fuse_qkv(sd)
    w = sd.get("patch_embed.proj.weight")
    if w is None or w.ndim != 5 or "pos_embed_temporal" not in sd:
        raise UserError("not a video ViT checkpoint (no 3-D patch embedding or separable positions)", str(path),
                        "give an MAE-ST file (mae_st .pth, PySlowFast .pyth or a vis maest-* checkpoint)")
    depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    width, t_patch, patch = w.shape[0], w.shape[2], w.shape[3]
    info = {"embed_dim": width, "depth": depth, "patch_size": patch, "t_patch_size": t_patch,
            "num_frames": sd["pos_embed_temporal"].shape[1] * t_patch, "num_heads": HEADS.get(width),
            "classifier": "head.weight" in sd}
    args = state.get("args")  # mae_st: an argparse Namespace
    cfg = state.get("config") or (vars(args) if args is not None and not isinstance(args, dict) else args) or {}
    info["num_heads"] = (cfg.get("vit") or {}).get("num_heads", info["num_heads"])
    rate = (cfg.get("clip") or {}).get("sampling_rate", cfg.get("sampling_rate"))
    if rate:
        info["sampling_rate"] = int(rate)
    if isinstance(state.get("cfg"), str):  # PySlowFast: YAML text
        m = re.search(r"SAMPLING_RATE:\s*(\d+)", state["cfg"])
        if m:
            info["sampling_rate"] = int(m.group(1))
    return sd, info


def _fit_positions(sd: StateDict, model: nn.Module) -> None:
    if "pos_embed_spatial" in sd and sd["pos_embed_spatial"].shape != model.pos_embed_spatial.shape:
        grid, t_grid = model.patch_embed.grid_size, model.patch_embed.t_grid_size
        sd["pos_embed_spatial"], sd["pos_embed_temporal"] = resize_separable(
            sd["pos_embed_spatial"], sd["pos_embed_temporal"], grid, t_grid)


def load_video_classifier(model: nn.Module, sd: StateDict, source: str, need_head: bool = False) -> list[str]:
    """Load a video ViT classifier (mean-pool readout, `fc_norm`, head) from pre-trained or fine-tuned
    weights (`read_video_weights`). Pre-trained: decoder and final `norm` dropped, head and fc_norm left to
    initialise. Fine-tuned official: its post-pool `norm` is vis's `fc_norm`. A head of another class count
    is dropped; with `need_head` (testing) a file without a matching head is an error. Returns the keys
    left at their initial values."""
    sd = {k: v for k, v in sd.items() if not k.startswith(DECODER)}
    if "head.weight" in sd and "fc_norm.weight" not in sd:  # official fine-tuned: norm after the pool
        sd = {("fc_" + k if k.startswith("norm.") else k): v for k, v in sd.items()}
    own = model.state_dict()
    if "head.weight" in sd and sd["head.weight"].shape != own["head.weight"].shape:
        if need_head:
            raise UserError(f"the checkpoint's head has {sd['head.weight'].shape[0]} classes, the data "
                            f"{own['head.weight'].shape[0]}", source, "test on the dataset it was fine-tuned on")
        sd = {k: v for k, v in sd.items() if not k.startswith("head.")}
    if need_head and "head.weight" not in sd:
        raise UserError("pre-trained weights without a classifier head", source,
                        "fine-tune them first with maest-finetune --finetune FILE (the released "
                        "mae_pretrain_* and *_rep4_mr9_16x4.pyth files are pre-training only)")
    sd = dict(sd)
    _fit_positions(sd, model)
    strict_load(model, sd, source, may_miss={"head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"},
                may_drop={"norm.weight", "norm.bias"})
    return sorted(set(own) - set(sd))


def load_video_mae(model: nn.Module, sd: StateDict, source: str) -> None:
    """Load a whole MaskedAutoencoderViT3D (encoder and decoder) strictly from `read_video_weights` output."""
    enc = {f"encoder.{k}": v for k, v in sd.items() if not k.startswith(DECODER)}
    dec = {f"decoder.{k}": v for k, v in sd.items() if k.startswith(DECODER)}
    full = enc | dec
    check_fits(model, full, source)
    model.load_state_dict(full)
