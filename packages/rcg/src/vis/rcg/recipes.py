"""Named presets for the RCG entry points: the paper's ImageNet 256 x 256 recipes (arXiv 2312.03701 v4 and the
official code) and tiny CPU recipes on scikit-learn digits.

The encoder of the full recipes is MoCo v3 ViT-B/16 300 epochs with its projector, exported as a backbone
file: `mocov3-export --recipe vit-b-300ep --keep-projector --output mocov3-vit-b-300ep-projector.pt`. The tiny
recipes read the tiny MoCo v3 run of vis-mocov3 exported the same way (docs/rcg.md).
"""

from __future__ import annotations

from collections.abc import Callable

from vis.core.config import LaunchOptions
from vis.rcg.config import EvalConfig, PixelConfig, RdmConfig, SampleConfig

ENCODER = "mocov3-vit-b-300ep-projector.pt"
TINY_ENCODER = "output/mocov3-tiny/projector.pt"
CPU = dict(device="cpu", num_workers=0, launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=60))


def rdm_paper() -> RdmConfig:
    """RDM on ImageNet: 12 blocks x 1536, AdamW (0.9, 0.999) wd 0.01 at a constant lr 5.12e-4 = blr 1e-6 x
    batch 512 (4 GPUs x 128), 200 epochs, EMA 0.9999, Resize 256 -> RandomCrop 256 -> flip, rep-FD of 10k
    DDIM-250 (eta 1) samples every 10 epochs."""
    return RdmConfig(
        data="imagefolder:/datasets/imagenet", output_dir="output/rcg-rdm-mocov3-vitb", encoder=ENCODER,
        input_size=256, flip=True, rdm_depth=12, rdm_width=1536, epochs=200, batch_size=128, blr=1e-6,
        weight_decay=0.01, ema_decay=0.9999, sample_steps=250, eta=1.0, fd_every=10, fd_samples=10000,
        precision="fp32", num_workers=10, save_every=10, save_every_steps=2000, log_every=100,
        launch=LaunchOptions(nodes=1, gpus_per_node=4, cpus_per_task=10, timeout_min=4320),
    )


def adm_paper() -> PixelConfig:
    """RCG's ADM on ImageNet 256: 256 channels, multipliers (1, 1, 2, 2, 4, 4), 2 residual blocks, attention
    at 32 / 16 / 8 with 64-channel heads, 1000-step linear schedule, 400 epochs at batch 256 (16 nodes x 8 GPUs
    x 2) and lr 1e-4 (ADM's), EMA 0.9999, samples with 250 steps."""
    return PixelConfig(
        data="imagefolder:/datasets/imagenet", output_dir="output/rcg-adm-mocov3-vitb", encoder=ENCODER,
        input_size=256, flip=True, channels=256, channel_mult=(1, 1, 2, 2, 4, 4), num_res_blocks=2,
        attention_resolutions=(32, 16, 8), head_channels=64, rep_drop_prob=0.1, epochs=400, batch_size=2,
        blr=1e-4, weight_decay=0.0, ema_decay=0.9999, sample_steps=250, precision="bf16", num_workers=10,
        save_every=10, save_every_steps=2000, log_every=100,
        launch=LaunchOptions(nodes=16, gpus_per_node=8, cpus_per_task=10, timeout_min=4320),
    )


def rdm_tiny() -> RdmConfig:
    """Digits at 32 px through the tiny MoCo v3 encoder (64-d representations): RDM 3 blocks x 256, batch 128,
    200 epochs (2,200 steps; rep-FD 0.33 after 40, 0.095 after 200) at lr 1.28e-3 (blr 1e-5 x 128: 10 x the
    paper's blr for a run of minutes), EMA 0.999, rep-FD of 300 DDIM-50 samples every 50 epochs."""
    return RdmConfig(
        output_dir="output/rcg-rdm-tiny", encoder=TINY_ENCODER, input_size=32, flip=False, rdm_depth=3,
        rdm_width=256, epochs=200, batch_size=128, blr=1e-5, weight_decay=0.01, ema_decay=0.999, sample_steps=50,
        eta=1.0, fd_every=50, fd_samples=300, save_every=50, log_every=50, **CPU,
    )


def pixel_tiny() -> PixelConfig:
    """Digits at 8 px (scikit-learn's native resolution; the encoder sees them resized back to 32): a U-Net
    of 32 channels, multipliers (1, 2), 1 residual block per level, attention at 4 px, 1000-step schedule,
    batch 64, lr 5e-3 (blr 2e-2) on a cosine, EMA 0.999, 120 epochs (2,640 steps: the digits classifier's
    accuracy on conditioned samples still rose from 30 to 120 epochs); figures with 50 DDIM steps."""
    return PixelConfig(
        output_dir="output/rcg-pixel-tiny", encoder=TINY_ENCODER, input_size=8, flip=False, channels=32,
        channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(4,), head_channels=32, epochs=120,
        batch_size=64, blr=2e-2, weight_decay=0.0, ema_decay=0.999, sample_steps=50, save_every=20, log_every=50,
        **CPU,
    )


def sample_paper() -> SampleConfig:
    """50,000 images of RCG-ADM (DDIM 250, eta 1 for both stages), 16 per GPU, PNGs for FID / IS."""
    return SampleConfig(
        data="imagefolder:/datasets/imagenet", output_dir="output/rcg-adm-samples",
        rdm="output/rcg-rdm-mocov3-vitb/checkpoints/last.pt", pixel="output/rcg-adm-mocov3-vitb/checkpoints/last.pt",
        num_samples=50000, batch_size=16, rdm_steps=250, pixel_steps=250, save_images=True, num_workers=10,
        launch=LaunchOptions(nodes=4, gpus_per_node=8, cpus_per_task=10, timeout_min=1440),
    )


def sample_tiny() -> SampleConfig:
    """64 digits from the tiny RDM and pixel generator (50 + 50 DDIM steps)."""
    return SampleConfig(output_dir="output/rcg-samples-tiny", rdm="output/rcg-rdm-tiny/checkpoints/last.pt",
                        pixel="output/rcg-pixel-tiny/checkpoints/last.pt", num_samples=64, batch_size=64,
                        rdm_steps=50, pixel_steps=50, save_images=True, **CPU)


def eval_paper() -> EvalConfig:
    """FID / IS / PR of 50k samples against ADM's ImageNet 256 reference batch, and rep-FD vs the train set."""
    return EvalConfig(data="imagefolder:/datasets/imagenet", output_dir="output/rcg-adm-samples",
                      samples="output/rcg-adm-samples/images", encoder=ENCODER,
                      inception_weights="weights-inception-2015-12-05-6726825d.pth",
                      fid_stats="VIRTUAL_imagenet256_labeled.npz", batch_size=200, num_workers=10,
                      launch=LaunchOptions(nodes=1, gpus_per_node=8, cpus_per_task=10, timeout_min=240))


def eval_tiny() -> EvalConfig:
    """rep-FD of the tiny samples against the digits train split (FID needs the Inception file)."""
    return EvalConfig(output_dir="output/rcg-samples-tiny", samples="output/rcg-samples-tiny/images",
                      encoder=TINY_ENCODER, metrics=["rep_fd"], **CPU)


RDM_RECIPES: dict[str, Callable[[], RdmConfig]] = {"tiny": rdm_tiny, "rdm-mocov3-vitb-in1k": rdm_paper}
PIXEL_RECIPES: dict[str, Callable[[], PixelConfig]] = {"tiny": pixel_tiny, "adm-in1k": adm_paper}
SAMPLE_RECIPES: dict[str, Callable[[], SampleConfig]] = {"tiny": sample_tiny, "adm-in1k": sample_paper}
EVAL_RECIPES: dict[str, Callable[[], EvalConfig]] = {"tiny": eval_tiny, "adm-in1k": eval_paper}
