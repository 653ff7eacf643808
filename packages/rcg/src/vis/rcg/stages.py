"""What the RCG stages share: the image pipelines (pixels in [0, 1]), the real representations of a split,
the per-sample noise of a training batch, and the parameter groups of a constant learning rate."""

from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.transforms import v2

from vis.core.data import SeededDataset
from vis.core.data.skips import SkipCount
from vis.core.data.specs import DataSpec, parse_data_spec
from vis.core.dist import DistContext, start_run
from vis.core.eval.knn import extract_features
from vis.core.models import per_sample_noise
from vis.core.models.diffusion import per_sample_normal, per_sample_steps
from vis.core.optim import uniform_groups
from vis.rcg.config import StageConfig
from vis.rcg.encoder import RepEncoder, load_encoder


def train_pipeline(size: int, flip: bool) -> v2.Compose:
    """RCG's augmentation: Resize(size) -> RandomCrop(size) -> horizontal flip; pixels in [0, 1]."""
    flips = [v2.RandomHorizontalFlip()] if flip else []
    return v2.Compose([v2.Resize(size, antialias=True), v2.RandomCrop(size), *flips,
                       v2.ToDtype(torch.float32, scale=True)])


def eval_pipeline(size: int) -> v2.Compose:
    """Resize(size) -> CenterCrop(size), pixels in [0, 1] (the real images generated ones are compared with)."""
    return v2.Compose([v2.Resize(size, antialias=True), v2.CenterCrop(size), v2.ToDtype(torch.float32, scale=True)])


def start_stage(cfg: StageConfig) -> tuple[DistContext, DataSpec, RepEncoder, SeededDataset]:
    """What both generator stages start from: the run context, the data, the frozen encoder on the device and
    the train split under RCG's augmentation."""
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    encoder = load_encoder(str(cfg.encoder)).to(ctx.device)
    train = SeededDataset(spec.dataset("train"), train_pipeline(cfg.input_size, cfg.flip), cfg.seed)
    return ctx, spec, encoder, train


def split_of(spec: DataSpec, prefer: str = "val") -> str:
    return prefer if spec.has_split(prefer) else "train"


def real_reps(encoder: nn.Module, spec: DataSpec, split: str, size: int, batch_size: int, ctx: DistContext,
              skips: SkipCount) -> tuple[torch.Tensor, torch.Tensor]:
    """(standardised representations, labels) of every readable image of a split, gathered on every rank."""
    return extract_features(encoder, spec.dataset(split), eval_pipeline(size), batch_size, ctx.device, skips,
                            ctx.rank)


def diffusion_draws(seeds: torch.Tensor, shape: tuple[int, ...], steps: int, device: torch.device
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """(timesteps [N], noise [N, *shape]) of a training batch, each drawn from its sample's seed only."""
    return per_sample_steps(seeds, steps, device), per_sample_normal(seeds, shape, device)


def rep_drop_mask(seeds: torch.Tensor, prob: float, device: torch.device) -> torch.Tensor:
    """[N] bool: which samples train with `fake_latent` in place of their representation (from the seed)."""
    return per_sample_noise(seeds ^ 0xD509, 1, device)[:, 0] < prob


def constant_lr_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Every trainable parameter with the same weight decay, at a constant lr (RCG's RDM: no schedule)."""
    return [{**g, "fix_lr": True} for g in uniform_groups(model, weight_decay)]


def index_generators(seed: int, indices: torch.Tensor) -> list[torch.Generator]:
    """One CPU generator per sample index: generated sample i is the same on any number of ranks."""
    return [torch.Generator().manual_seed(seed * 1_000_003 + int(i)) for i in indices]
