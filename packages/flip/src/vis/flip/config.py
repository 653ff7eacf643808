"""Options of flip-pretrain and flip-zeroshot: plain data, no torch (`--help` and bad input answer at once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from vis.core.config import RunConfig, TrainConfig, ViTOptions, check
from vis.core.data.imagetext_spec import parse_labelled_spec, parse_pairs_spec

CLIP_BPE_VOCAB = 49408


@dataclass
class TextOptions:
    """The text tower: FLIP's is bidirectional, read out at position 0, without a padding mask."""

    text_width: int = 512
    text_depth: int = 12
    text_heads: int = 8
    context_length: int = 32
    """Tokens per caption (padded or cut; FLIP: 32, CLIP: 77)."""
    causal: bool = False
    """Causal attention (CLIP's text tower) instead of FLIP's bidirectional one."""
    text_pool: Literal["first", "eot", "mean"] = "first"
    """Readout: position 0 (FLIP), the end-of-text token (CLIP) or the mean of non-padding tokens."""
    pad_mask: bool = False
    """Ignore padding keys in attention (FLIP's code has no such mask; a documented option)."""
    tokenizer: Literal["clip_bpe", "words"] = "clip_bpe"
    """clip_bpe: CLIP's BPE bundled in open_clip_torch (vis-flip[clip], offline); words: lower-case words
    hashed into --vocab-size ids (no extra dependency)."""
    vocab_size: int = 4096
    """Vocabulary of the words tokenizer (clip_bpe has 49408)."""

    def validate(self) -> None:
        check(self.text_width % self.text_heads == 0, "text_width", f"must be divisible by --text-heads "
              f"{self.text_heads}", self.text_width)
        for name in ("text_width", "text_depth", "text_heads"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(self.context_length >= 2, "context_length", "must be >= 2", self.context_length)
        check(self.vocab_size >= 3, "vocab_size", "must be >= 3", self.vocab_size)


@dataclass
class ModelOptions:
    """What FLIP adds around the two towers."""

    proj_dim: int = 512
    """Width of the shared image-text embedding (B 512, L 768, H 1024)."""
    image_pool: Literal["avg", "token"] = "avg"
    """avg: mean of all output tokens, cls included (FLIP's code); token: the cls token (CLIP)."""
    ln_pre: bool = False
    """LayerNorm before the first image block (CLIP has it, FLIP does not)."""
    image_pos_embed: Literal["sincos", "learned"] = "sincos"
    init_logit_scale: float = 2.6592600369327779
    """log(1 / 0.07); the scale exp(s) is clamped to at most --max-logit-scale after every step."""
    max_logit_scale: float = 100.0


@dataclass
class PretrainConfig(TrainConfig):
    """flip-pretrain options; every field is a --kebab-case flag."""

    data: str = "scenes"
    """Image-text pairs: scenes | wds:PATTERN | csv:PATH (see docs/flip.md)."""
    input_size: int = 224
    vit: Annotated[ViTOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ViTOptions)
    text: Annotated[TextOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=TextOptions)
    model: Annotated[ModelOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=ModelOptions)
    mask_ratio: float = 0.5
    """Fraction of image patches removed at random per sample in training (0: CLIP; 0.5, 0.75: FLIP)."""
    loss: Literal["local", "gather_grad", "naive"] = "local"
    """Global-batch InfoNCE variant (same loss and gradients; memory linear for local, quadratic otherwise)."""
    crop_min_scale: float = 0.5
    """RandomResizedCrop area range (crop_min_scale, 1), aspect (3/4, 4/3)."""
    hflip: bool = True
    """Random horizontal flip (off for the synthetic scenes, whose captions say left or right)."""
    samples_per_epoch: int | None = None
    """Read this many samples (at most the dataset's size) per (virtual) epoch, successive epochs taking
    disjoint slices of the data: long
    runs count in slices (the paper's 6.4 and 0.32 epochs of LAION-400M) and checkpoint at each."""
    finetune: str | None = None
    """Weights to start from (a flip-pretrain or open_clip checkpoint): unmasked tuning starts from the
    masked pre-training's last.pt."""
    zeroshot_data: str | None = None
    """Zero-shot monitor at the end of training (and every --zeroshot-every epochs): scenes:shape | ..."""
    zeroshot_every: int = 0
    betas: tuple[float, float] = (0.9, 0.95)

    def validate(self) -> None:
        super().validate()
        self.vit.validate(self.input_size)
        self.text.validate()
        check(0 <= self.mask_ratio < 1, "mask_ratio", "must be in [0, 1)", self.mask_ratio)
        check(0 < self.crop_min_scale <= 1, "crop_min_scale", "must be in (0, 1]", self.crop_min_scale)
        check(self.model.proj_dim >= 1, "proj_dim", "must be >= 1", self.model.proj_dim)
        check(self.model.max_logit_scale >= 1, "max_logit_scale", "must be >= 1", self.model.max_logit_scale)
        check(self.samples_per_epoch is None or self.samples_per_epoch >= 1, "samples_per_epoch", "must be >= 1",
              self.samples_per_epoch)
        check(self.zeroshot_every >= 0, "zeroshot_every", "must be >= 0", self.zeroshot_every)
        check(self.finetune is None or Path(self.finetune).is_file(), "finetune", "is not a file", self.finetune)

    def validate_data(self) -> None:
        parse_pairs_spec(self.data)
        if self.zeroshot_data is not None:
            parse_labelled_spec(self.zeroshot_data)


@dataclass
class ZeroShotConfig(RunConfig):
    """flip-zeroshot options: a flip-pretrain or open_clip checkpoint, labelled images, class names and
    prompt templates."""

    data: str = "scenes:shape"
    """Labelled images: scenes:shape | scenes:color | imagefolder:PATH | csv:PATH (rows path,label)."""
    checkpoint: str | None = None
    """A flip-pretrain checkpoint (last.pt) or an open_clip CLIP state dict (e.g. ViT-B-16)."""
    classnames: str | None = None
    """Text file, one class name per line in label order (default: the scene attribute's values, the folder
    names with '_' read as spaces, or the CSV's sorted labels)."""
    templates: str | None = None
    """Text file of prompt templates with '{}' (default: CLIP's 7; for the scenes, every caption with the
    attribute left out)."""
    batch_size: int = 256

    def validate(self) -> None:
        super().validate()
        check(self.checkpoint is not None, "checkpoint", "is required", self.checkpoint)
        check(Path(str(self.checkpoint)).is_file(), "checkpoint", "is not a file", self.checkpoint)
        for name in ("classnames", "templates"):
            value = getattr(self, name)
            check(value is None or Path(value).is_file(), name, "is not a file", value)
        check(self.batch_size >= 1, "batch_size", "must be >= 1", self.batch_size)

    def validate_data(self) -> None:
        parse_labelled_spec(self.data)
