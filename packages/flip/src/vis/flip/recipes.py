"""Named presets for flip-pretrain and flip-zeroshot: the paper's LAION-400M recipes (Table 10 and the JAX
configs) for ViT-B/16, L/16 and H/14, the unmasked-tuning stage, and tiny CPU recipes on synthetic scenes.

Full recipes are written for 32 nodes x 8 GPUs (`--nodes 32`; batch_size is per device): global batch 65536 =
256 x 256 (the L/16 ablations: 16k / 32k / 64k at mask 0 / 50% / 75%, memory-matched). lr = 4e-6 x global
batch / 256, AdamW (0.9, 0.95), weight decay 0.2, cosine to 0. LAION epochs are counted in virtual epochs of
40M samples (--samples-per-epoch): 32 epochs = 320, the 6.4-epoch ablations = 64, and warm-up 51.2M samples
= 1.28 (B, L) or 256M = 6.4 (H). Unmasked tuning: 0.32 epoch = one virtual epoch of 128M samples at mask 0,
base lr 4e-8, warm-up 25.6M = 0.2, from the 32-epoch run's last.pt.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vis.core.config import LaunchOptions, ViTOptions
from vis.flip.config import ModelOptions, PretrainConfig, TextOptions, ZeroShotConfig

LAION = "wds:/datasets/laion400m/{00000..41407}.tar"
VIRTUAL_EPOCH = 40_000_000
SIZES: dict[str, tuple[ViTOptions, TextOptions, int]] = {
    "b16": (ViTOptions(16, 768, 12, 12), TextOptions(text_width=512, text_depth=12, text_heads=8), 512),
    "l16": (ViTOptions(16, 1024, 24, 16), TextOptions(text_width=768, text_depth=12, text_heads=12), 768),
    "h14": (ViTOptions(14, 1280, 32, 16), TextOptions(text_width=1024, text_depth=24, text_heads=16), 1024),
}
CLUSTER = dict(precision="bf16", num_workers=10, save_every=10, save_every_steps=500, log_every=50,
               launch=LaunchOptions(gpus_per_node=8, cpus_per_task=10, timeout_min=4320))
GPUS = 256  # 32 nodes x 8


def paper(size: str, mask_ratio: float = 0.5, global_batch: int = 65536, epochs: int = 320,
          name: str = "laion400m-32ep") -> PretrainConfig:
    """Pre-training on LAION-400M: RandomResizedCrop (0.5, 1) + flip at 224, mask `mask_ratio`, text 32 BPE
    tokens, bidirectional, position-0 readout; image: fixed sin-cos positions, no ln_pre, mean pooling."""
    vit, text, dim = SIZES[size]
    return PretrainConfig(
        data=LAION, output_dir=f"output/flip-{size}-{name}", input_size=224, vit=vit, text=text,
        model=ModelOptions(proj_dim=dim), mask_ratio=mask_ratio, loss="local", crop_min_scale=0.5, hflip=True,
        samples_per_epoch=VIRTUAL_EPOCH, epochs=epochs, warmup_epochs=6.4 if size == "h14" else 1.28,
        batch_size=global_batch // GPUS, blr=4e-6, min_lr=0.0, weight_decay=0.2, **CLUSTER,
    )


def unmasked_tuning(size: str) -> PretrainConfig:
    """0.32 LAION epoch (128M samples) at mask 0 from the masked run, base lr 4e-8, warm-up 25.6M samples."""
    cfg = paper(size, mask_ratio=0.0, name="unmasked-tuning")
    cfg.finetune = f"output/flip-{size}-laion400m-32ep/checkpoints/last.pt"
    cfg.samples_per_epoch, cfg.epochs, cfg.warmup_epochs, cfg.blr = 128_000_000, 1, 0.2, 4e-8
    return cfg


TINY_VIT = ViTOptions(patch_size=4, embed_dim=128, depth=4, num_heads=4)
TINY_TEXT = TextOptions(text_width=128, text_depth=2, text_heads=4, context_length=32, tokenizer="clip_bpe")


def tiny(mask_ratio: float = 0.5) -> PretrainConfig:
    """Synthetic captioned scenes (20,000 pairs at 32 px), ViT patch 4 (64 patches) 128 x 4 x 4 heads, text
    128 x 2 x 4 heads on 32 CLIP-BPE tokens, shared width 64; 10 epochs of batch 256, AdamW (0.9, 0.95) wd
    0.2, 1 warm-up epoch; crops of area (0.8, 1) and no flip (the captions say left or right). The lr is not
    4e-6 x batch / 256 (tuned for 64k batches of LAION): blr 1e-3, see docs/flip.md. Zero-shot monitor on the
    scenes' shapes at the end."""
    return PretrainConfig(
        data="scenes", output_dir=f"output/flip-tiny{'' if mask_ratio == 0.5 else f'-mask{round(mask_ratio * 100)}'}",
        input_size=32, vit=TINY_VIT, text=TINY_TEXT, model=ModelOptions(proj_dim=64), mask_ratio=mask_ratio,
        crop_min_scale=0.8, hflip=False, epochs=10, warmup_epochs=1, batch_size=256, blr=1e-3, weight_decay=0.2,
        zeroshot_data="scenes:shape", precision="fp32", num_workers=2, save_every=10, log_every=10, device="cpu",
        launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30),
    )


def tiny_unmasked_tuning() -> PretrainConfig:
    """One epoch at mask 0 from the tiny run's last.pt, lr / 100, warm-up 0.2 epoch."""
    cfg = tiny(0.0)
    cfg.output_dir, cfg.finetune = "output/flip-tiny-unmasked-tuning", "output/flip-tiny/checkpoints/last.pt"
    cfg.epochs, cfg.warmup_epochs, cfg.blr = 1, 0.2, 1e-5
    return cfg


PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {
    "tiny": tiny, "tiny-mask0": partial(tiny, 0.0), "tiny-mask75": partial(tiny, 0.75),
    "tiny-unmasked-tuning": tiny_unmasked_tuning,
    **{f"vit-{s}-laion400m-32ep": partial(paper, s) for s in SIZES},
    **{f"vit-{s}-unmasked-tuning": partial(unmasked_tuning, s) for s in SIZES},
    **{f"vit-l16-ablation-mask{round(r * 100)}": partial(paper, "l16", r, b, 64, f"ablation-mask{round(r * 100)}")
       for r, b in ((0.0, 16384), (0.5, 32768), (0.75, 65536))},
}


def zeroshot_tiny() -> ZeroShotConfig:
    """The tiny run's (unmasked-tuned) model on the validation scenes' shapes."""
    return ZeroShotConfig(data="scenes:shape", checkpoint="output/flip-tiny-unmasked-tuning/checkpoints/last.pt",
                          output_dir="output/flip-tiny-zeroshot", device="cpu", num_workers=0)


def zeroshot_imagenet() -> ZeroShotConfig:
    """ImageNet-1K val (imagefolder of wnid folders) with the 1000 class names (--classnames, one per line)
    and CLIP's 7 templates."""
    return ZeroShotConfig(data="imagefolder:/datasets/imagenet", checkpoint="output/flip-l16-unmasked-tuning/"
                          "checkpoints/last.pt", classnames="imagenet_classnames.txt",
                          output_dir="output/flip-zeroshot-imagenet", batch_size=256)


ZEROSHOT_RECIPES: dict[str, Callable[[], ZeroShotConfig]] = {"tiny": zeroshot_tiny, "imagenet": zeroshot_imagenet}
