"""Named presets for the SimSiam entry points: the paper's ImageNet recipes and tiny CPU recipes.

Pre-training (paper section 4, official README command): ResNet-50, projector 2048-2048-2048, predictor
2048-512-2048, SGD momentum 0.9, wd 1e-4 on every parameter, blr 0.05 (lr 0.1 at batch 512), per-epoch
half cosine, no warm-up, predictor lr fixed (--fix-pred-lr), SyncBN, fp32, MoCo v2 augmentation with crop
scale (0.2, 1). vis's --batch-size is per device and the lr follows the GLOBAL batch (the official -b is
per node). Linear evaluation (main_lincls.py): plain linear head, apex-LARC semantics over SGD, lr 0.1 x
4096 / 256 = 1.6, wd 0, 90 epochs, per-epoch cosine, torchvision crops.
"""

from __future__ import annotations

from collections.abc import Callable

from vis.core.config import LaunchOptions, ResNetOptions
from vis.core.eval.config import LinearProbeConfig
from vis.simsiam.config import PretrainConfig

TINY_RESNET = ResNetOptions(resnet_depth=18, resnet_width=16, small_input_stem=True)
CLUSTER = LaunchOptions(gpus_per_node=8, cpus_per_task=10, timeout_min=4320)
CPU = LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30)


def paper(epochs: int) -> PretrainConfig:
    """ImageNet-1K pre-training of ResNet-50 for `epochs` epochs on 1 node x 8 GPUs x 64 (global batch 512)."""
    return PretrainConfig(
        data="imagefolder:/datasets/imagenet", output_dir=f"output/simsiam-r50-in1k-{epochs}ep",
        resnet=ResNetOptions(resnet_depth=50, resnet_width=64, small_input_stem=False), input_size=224,
        crop_min_scale=0.2, dim=2048, pred_dim=512, fix_pred_lr=True, stop_gradient=True,
        epochs=epochs, warmup_epochs=0, batch_size=64, accum_iter=1, blr=0.05, min_lr=0.0, weight_decay=1e-4,
        precision="fp32", num_workers=10, save_every=10, save_every_steps=1000, log_every=50, knn_every=0,
        launch=CLUSTER,
    )


def tiny() -> PretrainConfig:
    """scikit-learn digits at 32 px; ResNet-18 with widths 16/32/64/128 and a 3x3 stem, projector
    128-128-128-128, predictor 128-32-128; 50 epochs of batch 128 with the paper's optimiser (blr 0.05,
    fixed predictor lr, wd 1e-4, no warm-up). See docs/simsiam.md for its time and numbers."""
    return PretrainConfig(
        data="digits", output_dir="output/simsiam-tiny", resnet=TINY_RESNET, input_size=32, crop_min_scale=0.2,
        dim=128, pred_dim=32, fix_pred_lr=True, stop_gradient=True, epochs=50, warmup_epochs=0, batch_size=128,
        accum_iter=1, blr=0.05, weight_decay=1e-4, precision="fp32", num_workers=2, save_every=10, log_every=10,
        knn_every=10, device="cpu", launch=CPU,
    )


def tiny_photos() -> PretrainConfig:
    """The tiny model on random 32-px crops of scikit-image's four colour photographs, to exercise the colour
    augmentations; the final kNN tells the four photos apart from their centre crops."""
    cfg = tiny()
    cfg.data, cfg.output_dir, cfg.epochs, cfg.knn_every = "photos", "output/simsiam-tiny-photos", 20, 0
    return cfg


PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {
    "tiny": tiny, "tiny-photos": tiny_photos,
    **{f"r50-{ep}ep": (lambda ep=ep: paper(ep)) for ep in (100, 200, 400, 800)},
}


def linprobe_paper() -> LinearProbeConfig:
    """ImageNet-1K linear classification of a SimSiam ResNet-50: 8 GPUs x 512 (global batch 4096)."""
    return LinearProbeConfig(
        data="imagefolder:/datasets/imagenet", output_dir="output/simsiam-linprobe-r50-in1k", arch="resnet",
        resnet=ResNetOptions(resnet_depth=50), finetune="checkpoint_0099.pth.tar", head="linear",
        optimizer="larc", lr_schedule="epoch", train_crop="torchvision", input_size=224, epochs=90,
        warmup_epochs=0, batch_size=512, blr=0.1, weight_decay=0.0, precision="fp32", num_workers=10,
        save_every=10, save_every_steps=500, log_every=20, launch=CLUSTER,
    )


def linprobe_tiny() -> LinearProbeConfig:
    """Digits, the backbone given by --finetune (e.g. output/simsiam-tiny/backbone.pt; random without it); the
    paper's protocol (LARC, per-epoch cosine) for 15 epochs of batch 128 on CPU, at blr 80: LARC makes each
    step about trust x lr x |w| long, so 165 steps need a far larger lr than the paper's 28,000 (blr 0.1)
    to move the head (the sweep in docs/simsiam.md)."""
    return LinearProbeConfig(
        data="digits", output_dir="output/simsiam-linprobe-tiny", arch="resnet", resnet=TINY_RESNET, head="linear",
        optimizer="larc", lr_schedule="epoch", train_crop="torchvision", input_size=32, epochs=15,
        warmup_epochs=0, batch_size=128, blr=80.0, weight_decay=0.0, num_workers=0, save_every=15, log_every=10,
        device="cpu", launch=CPU,
    )


LINPROBE_RECIPES = {"tiny": linprobe_tiny, "r50-in1k": linprobe_paper}
