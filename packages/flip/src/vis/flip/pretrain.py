"""flip-pretrain: language-image pre-training with masking (FLIP; Li, Fan, Hu, Feichtenhofer and He, 2023).

Each image is cropped (RandomResizedCrop, area 0.5 to 1) and flipped; its patches get their positions, then a
uniformly random mask_ratio of them is removed per sample (50% or 75%; 0 is CLIP) and the ViT encodes only
the rest, the cls token appended after masking. Captions (32 tokens) go through a bidirectional text
Transformer read out at position 0. Both features are projected without bias, L2-normalised and scored
against every caption and image of the global batch (symmetric InfoNCE, learnable temperature initialised
at 0.07, exp(s) clamped to 100). AdamW (0.9, 0.95), weight decay 0.2 except on biases, norms, cls token,
positions and the temperature; lr = 4e-6 x batch / 256 with warm-up and cosine. Unmasked tuning is the same
command at mask ratio 0, started from the masked run's weights (--finetune) with a lr 100 times lower.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
from torchvision.transforms import v2

from vis.core.data import SeededDataset
from vis.core.data.imagetext_spec import parse_pairs_spec
from vis.core.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.optim import param_groups
from vis.flip.config import PretrainConfig
from vis.flip.convert import load_weights
from vis.flip.model import FLIP, build_flip, model_kwargs, vocab_size_of
from vis.flip.tokenizer import TokenizedPairs, build_tokenizer
from vis.flip.zeroshot import ZeroShotMonitor


class EpochSlices(SeededDataset):
    """Virtual epochs of `size` samples: epoch e reads slice e mod k of a pass over the data (k = n // size
    slices per pass), each pass in its own pseudo-random order (an affine permutation i -> a i + b mod n
    seeded by (seed, pass), which needs no n-long table for billions of samples)."""

    def __init__(self, base: torch.utils.data.Dataset, transform, seed: int, size: int | None):
        super().__init__(base, transform, seed)
        self.n = len(base)
        self.size = min(size or self.n, self.n)

    def __len__(self) -> int:
        return self.size

    def _affine(self, rnd: int) -> tuple[int, int]:
        rng = random.Random(self.seed * 1_000_003 + rnd)
        while True:
            a = rng.randrange(1, max(self.n, 2))
            if math.gcd(a, self.n) == 1:
                return a, rng.randrange(self.n)

    def __getitem__(self, key: tuple[int, int]):
        epoch, i = key
        if self.size == self.n:
            return super().__getitem__(key)
        rnd, slot = divmod(epoch, self.n // self.size)
        a, b = self._affine(rnd)
        return super().__getitem__((epoch, (a * (slot * self.size + i) + b) % self.n))


def train_transform(cfg: PretrainConfig) -> v2.Compose:
    """RandomResizedCrop (area (crop_min_scale, 1), aspect (3/4, 4/3), bicubic), optional flip, normalise."""
    return v2.Compose([
        v2.RandomResizedCrop(cfg.input_size, scale=(cfg.crop_min_scale, 1.0),
                             interpolation=v2.InterpolationMode.BICUBIC, antialias=True),
        *([v2.RandomHorizontalFlip()] if cfg.hflip else []),
        v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def build_model(cfg: PretrainConfig) -> FLIP:
    c = cfg.to_dict()
    return build_flip(model_kwargs(c, vocab_size_of(c)))


def flip_step(model: torch.nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
    return model(batch["image"], batch["label"], batch["seed"])


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    t = cfg.text
    tokenizer = build_tokenizer(t.tokenizer, t.context_length, t.vocab_size)
    pairs = TokenizedPairs(parse_pairs_spec(cfg.data).pairs(), tokenizer)
    train = EpochSlices(pairs, train_transform(cfg), cfg.seed, cfg.samples_per_epoch)
    model = build_model(cfg)
    if cfg.finetune:
        load_weights(model, cfg.finetune)
    monitor = ZeroShotMonitor(cfg, ctx, tokenizer) if cfg.zeroshot_data else None
    task = Task(
        model=model, train_data=train, forward=flip_step, betas=cfg.betas,
        param_groups=lambda m: param_groups(m, cfg.weight_decay, no_decay=("cls_token", "pos_embed")),
        after_step=lambda step, epochs: model.clamp_logit_scale_(),
        evaluate=monitor.evaluate if monitor else None,
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if monitor is None or trainer.stopped or trainer.epoch < cfg.epochs:
        return result
    return monitor.summary(result, trainer.step, trainer.out, lambda: build_model(cfg))


if __name__ == "__main__":  # python -m vis.flip.pretrain (torchrun)
    from vis.flip import cli

    cli.pretrain.cli()
