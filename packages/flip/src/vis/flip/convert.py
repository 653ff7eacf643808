"""Checkpoints into the vis-flip model with strict key accounting: a flip-pretrain checkpoint (its saved config
rebuilds the model) or an open_clip CLIP state dict (`visual.conv1.weight`, `visual.transformer.resblocks.*`,
`transformer.resblocks.*`, ...; under `state_dict` with `module.` in open_clip's training checkpoints), whose
architecture is read from the tensor shapes (heads = width / 64, open_clip's rule for its ViT configs).

An open_clip model is CLIP: learned positions, `ln_pre`, cls-token readout, a causal text tower read out at
the end-of-text token, LayerNorm eps 1e-5, no patch-projection bias (set to zero here). Every open_clip key
lands in one vis key; the non-persistent causal `attn_mask` is dropped; anything else is an error.
The official FLIP JAX (t5x) checkpoints are not converted (docs/flip.md).
"""

from __future__ import annotations

import re
from typing import Any

import torch

from vis.core.convert import StateDict, read_checkpoint, strict_load, under_prefix
from vis.core.errors import UserError
from vis.flip.model import FLIP, build_flip, model_kwargs, vocab_size_of

WRONG_KIND = "expected a flip-pretrain checkpoint or an open_clip CLIP state dict (visual.conv1.weight, ...)"
BLOCK = {"ln_1": "norm1", "attn.in_proj_weight": "attn.qkv.weight", "attn.in_proj_bias": "attn.qkv.bias",
         "attn.out_proj": "attn.proj", "ln_2": "norm2", "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}


RENAME = {"visual.conv1.weight": ("visual.trunk.patch_embed.proj.weight", lambda v: v),
          "visual.class_embedding": ("visual.trunk.cls_token", lambda v: v.reshape(1, 1, -1)),
          "visual.positional_embedding": ("visual.trunk.pos_embed", lambda v: v.unsqueeze(0)),
          "visual.proj": ("visual.proj.weight", lambda v: v.T.contiguous()),
          "token_embedding.weight": ("text.token_embed.weight", lambda v: v),
          "positional_embedding": ("text.pos_embed", lambda v: v.unsqueeze(0)),
          "text_projection": ("text.proj.weight", lambda v: v.T.contiguous()),
          "logit_scale": ("logit_scale", lambda v: v.reshape(()))}


def _block_key(rest: str) -> str:
    for old, new in BLOCK.items():
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def open_clip_to_vis(sd: StateDict) -> StateDict:
    """Rename (and reshape) an open_clip CLIP state dict into vis-flip keys; unknown keys pass through
    unchanged, so strict loading names them."""
    out: StateDict = {}
    for k, v in sd.items():
        if k == "attn_mask":
            continue
        m = re.fullmatch(r"(visual\.)?transformer\.resblocks\.(\d+)\.(.+)", k)
        if m:
            out[f"{'visual.trunk' if m.group(1) else 'text'}.blocks.{m.group(2)}.{_block_key(m.group(3))}"] = v
            continue
        if k in RENAME:
            name, reshape = RENAME[k]
            out[name] = reshape(v)
            continue
        for old, new in (("visual.ln_pre.", "visual.ln_pre."), ("visual.ln_post.", "visual.trunk.norm."),
                         ("ln_final.", "text.norm.")):
            if k.startswith(old):
                k = new + k[len(old):]
        out[k] = v
    if "visual.trunk.patch_embed.proj.weight" in out:  # CLIP's patch projection has no bias
        out["visual.trunk.patch_embed.proj.bias"] = torch.zeros(out["visual.trunk.patch_embed.proj.weight"].shape[0])
    return out


def open_clip_kwargs(sd: StateDict) -> dict[str, dict[str, Any]]:
    """The vis-flip model of an open_clip CLIP state dict, from its shapes."""
    conv, pos = sd["visual.conv1.weight"], sd["visual.positional_embedding"]
    width, patch = conv.shape[0], conv.shape[-1]
    grid = round((pos.shape[0] - 1) ** 0.5)
    depth = 1 + max(int(k.split(".")[3]) for k in sd if k.startswith("visual.transformer.resblocks."))
    text_width = sd["token_embedding.weight"].shape[1]
    text_depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("transformer.resblocks."))
    proj_dim = sd["visual.proj"].shape[1]
    return {
        "visual": dict(img_size=grid * patch, patch_size=patch, width=width, depth=depth, num_heads=width // 64,
                       proj_dim=proj_dim, pool="token", ln_pre=True, pos_embed="learned", ln_eps=1e-5),
        "text": dict(vocab_size=sd["token_embedding.weight"].shape[0],
                     context_length=sd["positional_embedding"].shape[0], width=text_width, depth=text_depth,
                     num_heads=text_width // 64, embed_dim=proj_dim, causal=True, pool="eot", pad_mask=False,
                     ln_eps=1e-5),
        "flip": dict(mask_ratio=0.0, loss="local"),
    }


def _state_dict(state: dict, source: str) -> StateDict:
    sd = state.get("model", state.get("state_dict", state))
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise UserError("no model weights in checkpoint", source, WRONG_KIND)
    if any(k.startswith("module.") for k in sd):
        sd = under_prefix(sd, "module.")
    return sd


def load_model(path: str) -> tuple[FLIP, dict[str, Any]]:
    """(model with the checkpoint's weights, how to feed it: tokenizer, context length, vocabulary, input
    size and normalisation) from a flip-pretrain or an open_clip checkpoint."""
    state = read_checkpoint(path)
    sd = _state_dict(state, path)
    if "visual.conv1.weight" in sd:
        kwargs = open_clip_kwargs(sd)
        model = build_flip(kwargs)
        strict_load(model, open_clip_to_vis(sd), path)
        t = kwargs["text"]
        return model, {"tokenizer": "clip_bpe", "context_length": t["context_length"], "vocab_size": t["vocab_size"],
                       "input_size": kwargs["visual"]["img_size"], "normalize": "clip"}
    config = state.get("config")
    if not isinstance(config, dict) or "text" not in config or "mask_ratio" not in config:
        raise UserError("not a FLIP checkpoint", path, WRONG_KIND)
    model = build_flip(model_kwargs(config, vocab_size_of(config)))
    strict_load(model, sd, path)
    t = config["text"]
    return model, {"tokenizer": t["tokenizer"], "context_length": t["context_length"], "vocab_size": t["vocab_size"],
                   "input_size": config["input_size"], "normalize": "imagenet"}


def load_weights(model: FLIP, path: str) -> None:
    """Start `model` from a checkpoint's weights (unmasked tuning from the masked pre-training): every key
    must match; the architecture must be the same."""
    state = read_checkpoint(path)
    sd = _state_dict(state, path)
    strict_load(model, open_clip_to_vis(sd) if "visual.conv1.weight" in sd else sd, path)
