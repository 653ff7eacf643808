"""Converters that import official released checkpoints (and vis's own) into vis-core models, with strict
key accounting: every key is either loaded, or in a documented set of keys that may be missing or dropped.
Anything else fails with a one-line error listing the missing and unexpected keys."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn as nn

from vis.core import checkpoint as ckpt
from vis.core.errors import UserError
from vis.core.models.pos_embed import resize_pos_embed

StateDict = dict[str, torch.Tensor]


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint file, vis or official (official MAE / DeiT files store `args` as an
    argparse.Namespace, which is allowed as plain data; anything else that would import code is refused). The
weights of a sharded (--parallel fsdp) checkpoint are read from the folder it names."""
    with torch.serialization.safe_globals([argparse.Namespace]):
        state = ckpt.load(path)
    if "sharded" in state and "model" not in state:  # written under --parallel fsdp
        from vis.core.fsdp import read_sharded_model

        state["model"] = read_sharded_model(Path(path).parent / state["sharded"])
    return state


def model_state(state: dict, path: str | Path) -> StateDict:
    """The model weights in a loaded checkpoint: under `model` (vis, MAE, MAE-ST, DeiT), `model_state`
    (PySlowFast .pyth), `state_dict` (MoCo v3, SimSiam), or the whole dict if it is a state dict."""
    sd = state.get("model", state.get("model_state", state.get("state_dict", state)))
    if not isinstance(sd, dict) or not sd or not all(torch.is_tensor(v) for v in sd.values()):
        raise UserError("no model weights in checkpoint", str(path), "expected a state dict under 'model'")
    return sd


def read_weights(path: str | Path) -> StateDict:
    """The model weights of a checkpoint file (see read_checkpoint)."""
    return model_state(read_checkpoint(path), path)


def under_prefix(sd: StateDict, prefix: str) -> StateDict:
    """The entries whose key starts with `prefix`, with the prefix removed ("module.base_encoder." ...)."""
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


BACKBONE_FORMAT = "vis-backbone/1"


def save_backbone(path: str | Path, sd: StateDict, arch: dict, source: str) -> Path:
    """Write a plain backbone file: {"format", "arch" (how to build it: "vit" or "resnet" plus the
    options), "source", "model" (timm / torchvision key names, no head)}. Other methods (RCG, ViTDet, the
    linear probes) read it with `read_weights`; written atomically."""
    state = {"format": BACKBONE_FORMAT, "arch": arch, "source": source,
             "model": {k: v.detach().cpu().contiguous() for k, v in sd.items()}}
    ckpt.save_atomic(state, path)
    return Path(path)


def load_backbone_file(path: str | Path) -> nn.Module:
    """The backbone a `save_backbone` file describes, rebuilt from its `arch` record and loaded strictly (how
    one method starts from another's pre-training: RCG's encoder, ViTDet's initialisation)."""
    from vis.core.models.backbone import build_from_arch

    state = read_checkpoint(path)
    if state.get("format") != BACKBONE_FORMAT:
        raise UserError("not a vis backbone file", str(path), "write one with mocov3-export or simsiam-pretrain")
    model = build_from_arch(state["arch"])
    strict_load(model, state["model"], str(path))
    return model


def split_mae(sd: StateDict) -> tuple[StateDict, StateDict]:
    """(encoder, decoder) state dicts from an MAE checkpoint: vis's `encoder.*` / `decoder.*` layout, or the
    official flat layout where the decoder is `mask_token` plus `decoder_*` and the rest is a timm ViT."""
    if any(k.startswith("encoder.") for k in sd):
        enc = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")}
        dec = {k[len("decoder."):]: v for k, v in sd.items() if k.startswith("decoder.")}
        return enc, dec
    is_dec = lambda k: k == "mask_token" or k.startswith("decoder_")
    return {k: v for k, v in sd.items() if not is_dec(k)}, {k: v for k, v in sd.items() if is_dec(k)}


def _fit_pos_embed(sd: StateDict, model: nn.Module, key: str = "pos_embed") -> None:
    target = getattr(model, key, None)
    if key in sd and target is not None and sd[key].shape != target.shape:
        grid = model.patch_embed.grid_size
        sd[key] = resize_pos_embed(sd[key], grid, getattr(model, "num_prefix_tokens", 1))


def check_fits(model: nn.Module, sd: StateDict, source: str, may_miss: set[str] = frozenset(),
               may_drop: set[str] = frozenset()) -> None:
    """Raise a one-line UserError unless `sd` fits `model` (which may live on the meta device): keys missing
    from `sd` must be in `may_miss`, keys the model lacks in `may_drop`, and shapes must agree."""
    own = model.state_dict()
    unexpected = sorted(set(sd) - set(own) - set(may_drop))
    missing = sorted(set(own) - set(sd) - set(may_miss))
    shape = sorted(k for k in set(sd) & set(own) if sd[k].shape != own[k].shape)
    if unexpected or missing or shape:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:8])}{' ...' if len(unexpected) > 8 else ''}")
        if shape:
            parts.append("shape mismatch " + ", ".join(f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}"
                                                       for k in shape[:4]))
        raise UserError("checkpoint does not fit the model", source, "; ".join(parts))


def strict_load(model: nn.Module, sd: StateDict, source: str, may_miss: set[str] = frozenset(),
                may_drop: set[str] = frozenset()) -> None:
    """Load `sd` after `check_fits`: every key accounted for, every shape equal."""
    check_fits(model, sd, source, may_miss, may_drop)
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)


def load_vit_from_mae(model: nn.Module, sd: StateDict, source: str) -> list[str]:
    """Initialise a vis-core VisionTransformer from an MAE checkpoint (pre-trained encoder-only, full
    encoder + decoder, or fine-tuned; official or vis). The decoder is dropped; a head of another shape is
    dropped and left to the caller to re-initialise; the position table is interpolated to the model's grid;
    with average pooling the pre-trained final `norm` is dropped (the model has `fc_norm` instead). Returns
    the model keys left at their initial values."""
    enc, _ = split_mae(sd)
    enc = dict(enc)
    own = model.state_dict()
    for k in ("head.weight", "head.bias"):
        if k in enc and (k not in own or enc[k].shape != own[k].shape):
            del enc[k]
    _fit_pos_embed(enc, model)
    may_miss = {"head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"}
    may_drop = {"norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias"}
    strict_load(model, enc, source, may_miss=may_miss, may_drop=may_drop)
    return sorted(set(own) - set(enc))
