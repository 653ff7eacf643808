"""One Vision Transformer for every vis method, with timm-compatible parameter names.

Parameter names follow timm's VisionTransformer (patch_embed.proj, cls_token, pos_embed, blocks.i.{norm1,
attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, fc_norm, head) so that timm and official checkpoints
load with strict key matching after an explicit converter.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, LayerScale, Mlp, trunc_normal_

from vis.core.config import vit_size
from vis.core.models.masking import gather_tokens
from vis.core.models.pos_embed import SinCosOrder, sincos_2d
from vis.core.models.space_time import PatchEmbed3D, separable_pos

LayerNorm = partial(nn.LayerNorm, eps=1e-6)


class PatchEmbed(nn.Module):
    """Non-overlapping p x p patches -> tokens in row-major order (token = row * W + col)."""

    def __init__(self, img_size: int, patch_size: int, in_chans: int, embed_dim: int):
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class ConvStem(PatchEmbed):
    """MoCo v3's convolutional stem (Xiao et al., 2021) in place of the patch projection: log2(p) 3x3
    stride-2 convolutions with BN + ReLU, widths D/2^(k-1) ... D/2, D, then a 1x1 convolution to D. Keys
    `proj.{0,1,3,4,...}` as in the official vit_conv_* models."""

    def __init__(self, img_size: int, patch_size: int, in_chans: int, embed_dim: int):
        nn.Module.__init__(self)
        levels = patch_size.bit_length() - 1
        if patch_size != 2**levels or levels < 1 or embed_dim % 2 ** (levels - 1):
            raise ValueError(f"a conv stem needs a power-of-two patch size and a width divisible by "
                             f"{2 ** max(levels - 1, 0)}, got patch {patch_size}, width {embed_dim}")
        self.img_size, self.patch_size = img_size, patch_size
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        layers: list[nn.Module] = []
        width_in, width = in_chans, embed_dim // 2 ** (levels - 1)
        for _ in range(levels):
            layers += [nn.Conv2d(width_in, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
            width_in, width = width, width * 2
        layers.append(nn.Conv2d(width_in, embed_dim, kernel_size=1))
        self.proj = nn.Sequential(*layers)


class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection, computed by scaled_dot_product_attention."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        n, length, dim = x.shape
        qkv = self.qkv(x).reshape(n, length, 3, self.num_heads, dim // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if return_attention:  # eager path: fused kernels cannot expose the probabilities
            attn = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)
            out = attn @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v)
        out = self.proj(out.transpose(1, 2).reshape(n, length, dim))
        return (out, attn) if return_attention else out


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)), with drop path and
    optional layer scale."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        init_values: float | None = None,
    ):
        super().__init__()
        self.norm1 = LayerNorm(dim)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path1 = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU)
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path2 = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


PosEmbedKind = Literal["sincos", "sincos_trainable", "learned", "separable", "none"]
GlobalPool = Literal["token", "avg"]
InitPreset = Literal["mae", "mocov3"]


class VisionTransformer(nn.Module):
    """Plain ViT: patch embedding, optional cls token, position table, pre-norm blocks, readout, head.

    pos_embed="sincos" gives a fixed table (requires_grad False, kept in the state dict) in the layout
    `sincos_order` ("mae": column first, "mocov3": row first); "sincos_trainable" starts from that table
    and trains it (MAE fine-tuning); "learned" starts from N(0, 0.02). global_pool="avg" averages patch tokens and
    applies `fc_norm` (the final `norm` becomes Identity, as in MAE fine-tuning); "token" reads the cls
    token after `norm`. MoCo v3 options: init="mocov3" (its initialisation, see `init_weights`),
    conv_stem=True (`ConvStem` replaces the patch projection), frozen_patch_embed=True (the random patch
    projection is never trained: the paper's fix for the instability of self-supervised ViT training).
    Video: num_frames > 1 embeds (t_patch_size, p, p) patches of [N, C, T, H, W] clips (time-major tokens);
    pos_embed="separable" learns `pos_embed_spatial` [1, H'W', D], `pos_embed_temporal` [1, T', D] and
    `pos_embed_class` [1, 1, D] (MAE-ST). head_drop is dropout before the head.
    """

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_chans: int = 3,
        num_classes: int = 1000,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.0,
        init_values: float | None = None,
        class_token: bool = True,
        pos_embed: PosEmbedKind = "sincos",
        sincos_order: SinCosOrder = "mae",
        global_pool: GlobalPool = "token",
        init: InitPreset = "mae",
        conv_stem: bool = False,
        frozen_patch_embed: bool = False,
        num_frames: int = 1,
        t_patch_size: int = 1,
        head_drop: float = 0.0,
    ):
        super().__init__()
        self.embed_dim, self.num_classes, self.global_pool = embed_dim, num_classes, global_pool
        self.num_features = embed_dim
        self.init, self.frozen_patch_embed = init, frozen_patch_embed
        if num_frames > 1:
            self.patch_embed: nn.Module = PatchEmbed3D(img_size, patch_size, in_chans, embed_dim, num_frames,
                                                       t_patch_size)
        else:
            self.patch_embed = (ConvStem if conv_stem else PatchEmbed)(img_size, patch_size, in_chans, embed_dim)
        self.num_prefix_tokens = 1 if class_token else 0
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        num_pos = self.patch_embed.num_patches + self.num_prefix_tokens
        self.separable = pos_embed == "separable"
        if pos_embed in ("none", "separable"):
            self.pos_embed = None
            if self.separable:
                grid, t_grid = self.patch_embed.grid_size, getattr(self.patch_embed, "t_grid_size", 1)
                self.pos_embed_spatial = nn.Parameter(torch.zeros(1, grid[0] * grid[1], embed_dim))
                self.pos_embed_temporal = nn.Parameter(torch.zeros(1, t_grid, embed_dim))
                self.pos_embed_class = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        else:
            trainable = pos_embed != "sincos"
            self.pos_embed = nn.Parameter(torch.zeros(1, num_pos, embed_dim), requires_grad=trainable)
            if pos_embed.startswith("sincos"):
                grid = self.patch_embed.grid_size
                table = sincos_2d(embed_dim, grid[0], grid[1], cls_token=class_token, order=sincos_order)
                self.pos_embed.data.copy_(table.unsqueeze(0))
            else:
                trunc_normal_(self.pos_embed, std=0.02)
        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, dpr[i], init_values) for i in range(depth)
        )
        use_fc_norm = global_pool == "avg"
        self.norm = nn.Identity() if use_fc_norm else LayerNorm(embed_dim)
        self.fc_norm = LayerNorm(embed_dim) if use_fc_norm else nn.Identity()
        self.head_drop = nn.Dropout(head_drop)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights()

    @classmethod
    def from_name(cls, name: str, **kwargs) -> VisionTransformer:
        """Build a named size ("vit_base_patch16", ...); kwargs override anything else."""
        return cls(**{**vars(vit_size(name)), **kwargs})

    def init_weights(self) -> None:
        """init="mae": xavier-uniform linears (qkv as one matrix) and patch conv (on its 2-D view), zero
        biases, unit LayerNorms, cls token ~ N(0, 0.02), head trunc-normal 0.02. init="mocov3": xavier-uniform
        linears with qkv's bound taken as if Q, K and V were separate matrices, sqrt(6 / (out/3 + in)); zero
        biases; cls token ~ N(0, 1e-6); patch projection uniform with bound sqrt(6 / (3 p^2 + D)) and zero bias
        (a conv stem keeps torch's default conv init, as in MoCo v3)."""
        proj = self.patch_embed.proj
        if self.init == "mae":
            if isinstance(proj, nn.Conv2d | nn.Conv3d):
                nn.init.xavier_uniform_(proj.weight.data.view(proj.weight.shape[0], -1))
            if self.separable:
                for table in (self.pos_embed_spatial, self.pos_embed_temporal, self.pos_embed_class):
                    if table is not None:
                        trunc_normal_(table, std=0.02)
            if self.cls_token is not None:
                nn.init.normal_(self.cls_token, std=0.02)
            self.apply(init_linear_and_norm)
            if isinstance(self.head, nn.Linear):
                trunc_normal_(self.head.weight, std=0.02)
        else:
            self.apply(init_linear_and_norm)
            xavier_qkv_as_separate(self)
            if self.cls_token is not None:
                nn.init.normal_(self.cls_token, std=1e-6)
            if isinstance(proj, nn.Conv2d):
                bound = math.sqrt(6.0 / float(3 * self.patch_size**2 + self.embed_dim))
                nn.init.uniform_(proj.weight, -bound, bound)
                nn.init.zeros_(proj.bias)
        if self.frozen_patch_embed and isinstance(proj, nn.Conv2d):  # MoCo v3 freezes no conv stem
            self.patch_embed.requires_grad_(False)

    @property
    def patch_size(self) -> int:
        return self.patch_embed.patch_size

    def no_weight_decay(self) -> set[str]:
        return {"pos_embed", "cls_token", "pos_embed_spatial", "pos_embed_temporal", "pos_embed_class"}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Patch tokens plus their position embedding, without prefix tokens: [N, L, D]."""
        x = self.patch_embed(x)
        if self.pos_embed is not None:
            x = x + self.pos_embed[:, self.num_prefix_tokens :]
        elif self.separable:
            x = x + separable_pos(self.pos_embed_spatial, self.pos_embed_temporal)
        return x

    def add_prefix(self, x: torch.Tensor) -> torch.Tensor:
        """Prepend the cls token (plus its position row) when the model has one."""
        if self.cls_token is None:
            return x
        cls = self.cls_token
        if self.pos_embed is not None:
            cls = cls + self.pos_embed[:, :1]
        elif self.separable and self.pos_embed_class is not None:
            cls = cls + self.pos_embed_class
        return torch.cat([cls.expand(x.shape[0], -1, -1), x], dim=1)

    def forward_features(self, x: torch.Tensor, ids_keep: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens after the last block and `norm`; with ids_keep [N, K] only those patches are encoded."""
        x = self.embed(x)
        if ids_keep is not None:
            x = gather_tokens(x, ids_keep)
        x = self.add_prefix(x)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Readout: mean of patch tokens + fc_norm ("avg") or the cls token ("token")."""
        if self.global_pool == "avg":
            return self.fc_norm(x[:, self.num_prefix_tokens :].mean(dim=1))
        return x[:, 0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input: the readout of the last tokens, [N, embed_dim]."""
        return self.pool(self.forward_features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_drop(self.features(x)))


def init_linear_and_norm(m: nn.Module) -> None:
    """xavier-uniform Linear weights with zero bias; LayerNorm weight 1 and bias 0."""
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def xavier_qkv_as_separate(model: nn.Module) -> None:
    """Re-initialise every fused qkv projection xavier-uniform as if Q, K and V were separate matrices, bound
    sqrt(6 / (out/3 + in)): what models with split q/k/v layers (MoCo v3, MAE-ST) start from."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear) and name.endswith("qkv"):
            bound = math.sqrt(6.0 / (m.weight.shape[0] // 3 + m.weight.shape[1]))
            nn.init.uniform_(m.weight, -bound, bound)


def trunc_normal_head_(head: nn.Linear, std: float) -> None:
    """Re-initialise a classification head (fine-tuning: std 2e-5; linear probe: 0.01)."""
    trunc_normal_(head.weight, std=std)
    nn.init.zeros_(head.bias)

