"""FLIP: a ViT image tower that encodes only a random subset of patches in training, a text Transformer,
bias-free projections to a shared space and a learnable temperature, trained with the symmetric InfoNCE over
the global batch (Li et al., 2023). Mask ratio 0 is CLIP."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn

from vis.core.losses import clip_loss
from vis.core.models import VisionTransformer, gather_tokens, per_sample_noise, random_masking
from vis.core.models.text import TextTransformer, set_layernorm_eps
from vis.core.models.vit import LayerNorm


class ImageTower(nn.Module):
    """A core ViT trunk (`trunk.*`, timm names) with the patches of `ids_keep` only, the cls token appended
    after masking (always kept), an optional `ln_pre`, pooling (mean of all tokens, or the cls token) after
    the final norm, and a bias-free projection."""

    def __init__(self, img_size: int = 224, patch_size: int = 16, width: int = 768, depth: int = 12,
                 num_heads: int = 12, proj_dim: int = 512, pool: str = "avg", ln_pre: bool = False,
                 pos_embed: str = "sincos", ln_eps: float = 1e-6):
        super().__init__()
        self.pool = pool
        self.trunk = VisionTransformer(img_size, patch_size, num_classes=0, embed_dim=width, depth=depth,
                                       num_heads=num_heads, pos_embed=pos_embed, global_pool="token", init="mae")
        set_layernorm_eps(self.trunk, ln_eps)
        self.ln_pre = set_layernorm_eps(LayerNorm(width), ln_eps) if ln_pre else nn.Identity()
        self.proj = nn.Linear(width, proj_dim, bias=False)
        nn.init.normal_(self.proj.weight, std=width**-0.5)

    @property
    def num_patches(self) -> int:
        return self.trunk.patch_embed.num_patches

    def forward(self, x: torch.Tensor, ids_keep: torch.Tensor | None = None) -> torch.Tensor:
        t = self.trunk
        x = t.embed(x)  # patches + their positions
        if ids_keep is not None:
            x = gather_tokens(x, ids_keep)
        x = self.ln_pre(t.add_prefix(x))
        for blk in t.blocks:
            x = blk(x)
        x = t.norm(x)
        return self.proj(x.mean(dim=1) if self.pool == "avg" else x[:, 0])


class FLIP(nn.Module):
    """`visual` (ImageTower), `text` (TextTransformer with projection) and `logit_scale` (log of the
    temperature's inverse). In training, `mask_ratio` of each image's patches are removed at random; in eval
    mode every patch is encoded."""

    def __init__(self, visual: ImageTower, text: TextTransformer, mask_ratio: float = 0.5, loss: str = "local",
                 init_logit_scale: float = math.log(1 / 0.07), max_logit_scale: float = 100.0):
        super().__init__()
        self.visual, self.text = visual, text
        self.mask_ratio, self.loss_mode, self.max_log_scale = mask_ratio, loss, math.log(max_logit_scale)
        self.logit_scale = nn.Parameter(torch.tensor(float(init_logit_scale)))

    def keep_ids(self, n: int, device: torch.device, seeds: torch.Tensor | None) -> torch.Tensor | None:
        """Indices of the kept patches [N, int(L (1 - r))] in training, None in eval mode or at r = 0. With
        `seeds` (one per sample) the noise depends on the sample alone, not on the batch or world size."""
        if not self.training or self.mask_ratio == 0:
            return None
        length = self.visual.num_patches
        noise = per_sample_noise(seeds, length, device) if seeds is not None else torch.rand(n, length, device=device)
        return random_masking(noise, self.mask_ratio).ids_keep

    def encode_image(self, images: torch.Tensor, ids_keep: torch.Tensor | None = None) -> torch.Tensor:
        return self.visual(images, ids_keep)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.text(tokens)

    def clamp_logit_scale_(self) -> None:
        """Keep exp(logit_scale) in [1, max] (open_clip clamps after every optimizer step)."""
        with torch.no_grad():
            self.logit_scale.clamp_(0, self.max_log_scale)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor,
                seeds: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        ids_keep = self.keep_ids(images.shape[0], images.device, seeds)
        image, text = self.encode_image(images, ids_keep), self.encode_text(tokens)
        scale = self.logit_scale.exp()
        return {"loss": clip_loss(image, text, scale, self.loss_mode), "logit_scale": scale.detach()}


def model_kwargs(c: dict[str, Any], vocab_size: int) -> dict[str, Any]:
    """Constructor arguments of `build_flip` from a PretrainConfig as a dict (a checkpoint's saved config)."""
    v, t, m = c["vit"], c["text"], c["model"]
    return {
        "visual": dict(img_size=c["input_size"], patch_size=v["patch_size"], width=v["embed_dim"], depth=v["depth"],
                       num_heads=v["num_heads"], proj_dim=m["proj_dim"], pool=m["image_pool"], ln_pre=m["ln_pre"],
                       pos_embed=m["image_pos_embed"], ln_eps=c.get("ln_eps", 1e-6)),
        "text": dict(vocab_size=vocab_size, context_length=t["context_length"], width=t["text_width"],
                     depth=t["text_depth"], num_heads=t["text_heads"], embed_dim=m["proj_dim"], causal=t["causal"],
                     pool=t["text_pool"], pad_mask=t["pad_mask"], ln_eps=c.get("ln_eps", 1e-6)),
        "flip": dict(mask_ratio=c["mask_ratio"], loss=c["loss"], init_logit_scale=m["init_logit_scale"],
                     max_logit_scale=m["max_logit_scale"]),
    }


def build_flip(kwargs: dict[str, dict[str, Any]]) -> FLIP:
    """The model `model_kwargs` (or the open_clip converter) describes."""
    return FLIP(ImageTower(**kwargs["visual"]), TextTransformer(**kwargs["text"]), **kwargs["flip"])


def vocab_size_of(c: dict[str, Any]) -> int:
    """The text vocabulary a config's tokenizer gives."""
    return 49408 if c["text"]["tokenizer"] == "clip_bpe" else c["text"]["vocab_size"]
