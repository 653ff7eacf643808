"""Named presets for the MoCo v3 entry points: the paper's ImageNet-1K recipes (official CONFIG.md) and tiny
CPU recipes on scikit-learn digits.

Full recipes: global batch 4096 = 8 nodes x 8 GPUs x 64 (`--nodes 8`; batch_size is per device), lr = blr x
4096 / 256 with a per-iteration warm-up and half cosine to 0, SyncBN, drop_last, bf16 autocast (the official
code used fp16 AMP with a loss scaler; bf16 needs none and gives the same models on A100/H100).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vis.core.config import LaunchOptions, ResNetOptions, ViTOptions
from vis.core.eval.config import LinearProbeConfig
from vis.mocov3.config import ExportConfig, PretrainConfig, official_vit

CLUSTER = dict(precision="bf16", num_workers=10, save_every=20, save_every_steps=1000, log_every=50,
               launch=LaunchOptions(gpus_per_node=8, cpus_per_task=10, timeout_min=4320))
VITS = {"vit-small": "vit_small", "vit-base": "vit_base", "vit-conv-small": "vit_conv_small",
        "vit-conv-base": "vit_conv_base"}
FILES = {"vit_small": "vit-s-300ep.pth.tar", "vit_base": "vit-b-300ep.pth.tar"}
TINY_VIT = ViTOptions(patch_size=4, embed_dim=64, depth=4, num_heads=4)
TINY_RESNET = ResNetOptions(resnet_depth=18, resnet_width=16, small_input_stem=True)
TINY = dict(data="digits", input_size=32, crop_min_scale=0.2, dim=64, mlp_dim=256, moco_m=0.99, batch_size=128,
            precision="fp32", num_workers=2, save_every=10, log_every=10, knn_every=10, device="cpu",
            launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30))


def vit_paper(name: str) -> PretrainConfig:
    """ViT 300 epochs (CONFIG.md): AdamW (0.9, 0.999) with weight decay 0.1 on every parameter, blr 1.5e-4
    (lr 2.4e-3), 40 warm-up epochs, T 0.2, m0 0.99 on a cosine to 1, crops (0.08, 1), projector 3 x 4096 ->
    256, predictor 4096 -> 256. Patch-projection models freeze the random patch projection (stop-grad
    conv1); the ConvStem models (depth 11) train their stem."""
    conv = "conv" in name
    return PretrainConfig(
        data="imagefolder:/datasets/imagenet", output_dir=f"output/mocov3-{name.replace('_', '-')}-300ep",
        arch="vit", vit=official_vit(name), conv_stem=conv, stop_grad_conv1=not conv, input_size=224,
        crop_min_scale=0.08, dim=256, mlp_dim=4096, temperature=0.2, moco_m=0.99, moco_m_cos=True,
        optimizer="adamw", epochs=300, warmup_epochs=40, batch_size=64, blr=1.5e-4, min_lr=0.0,
        weight_decay=0.1, **CLUSTER,
    )


R50 = {100: (0.6, 1e-6, 0.99), 300: (0.3, 1e-6, 0.99), 1000: (0.3, 1.5e-6, 0.996)}  # blr, wd, m0


def r50_paper(epochs: int) -> PretrainConfig:
    """ResNet-50 for 100 / 300 / 1000 epochs (CONFIG.md): LARS (momentum 0.9, trust 0.001, no decay or
    adaptation of biases and BN), blr 0.6 / 0.3 / 0.3, weight decay 1e-6 / 1e-6 / 1.5e-6, 10 warm-up epochs,
    T 1.0, m0 0.99 / 0.99 / 0.996 on a cosine to 1, crops (0.2, 1), projector 4096 -> 256, predictor 4096 ->
    256 without a last BN."""
    blr, wd, m0 = R50[epochs]
    return PretrainConfig(
        data="imagefolder:/datasets/imagenet", output_dir=f"output/mocov3-r50-{epochs}ep", arch="resnet",
        resnet=ResNetOptions(50, 64, False), input_size=224, crop_min_scale=0.2, dim=256, mlp_dim=4096,
        temperature=1.0, moco_m=m0, moco_m_cos=True, optimizer="lars", epochs=epochs, warmup_epochs=10,
        batch_size=64, blr=blr, min_lr=0.0, weight_decay=wd, **CLUSTER,
    )


def tiny() -> PretrainConfig:
    """Digits at 32 px, ViT patch 4 (64 tokens), 64-d x 4 blocks x 4 heads with a frozen random patch
    projection, projector 64 -> 256 -> 256 -> 64, predictor 64 -> 256 -> 64, T 0.2, m0 0.99 cosine, 50
    epochs of batch 128, AdamW wd 0.1, 5 warm-up epochs. blr 4.5e-3 = 30 x the paper's 1.5e-4: the best of
    the sweep x {1, 10, 30} in docs/mocov3.md."""
    return PretrainConfig(output_dir="output/mocov3-tiny", arch="vit", vit=TINY_VIT, stop_grad_conv1=True,
                          temperature=0.2, moco_m_cos=True, optimizer="adamw", epochs=50, warmup_epochs=5,
                          blr=4.5e-3, weight_decay=0.1, **TINY)


def tiny_resnet() -> PretrainConfig:
    """Digits at 32 px, ResNet-18 of width 16 with the 3x3 stride-1 stem, projector 256 -> 256 -> 64,
    predictor 64 -> 256 -> 64 (no last BN), T 1.0, LARS wd 1e-6, 20 epochs of batch 128 with 2 of warm-up,
    blr 1.0 (chosen by the sweep in docs/mocov3.md)."""
    return PretrainConfig(output_dir="output/mocov3-tiny-resnet", arch="resnet", resnet=TINY_RESNET,
                          temperature=1.0, moco_m_cos=True, optimizer="lars", epochs=20, warmup_epochs=2,
                          blr=1.0, weight_decay=1e-6, **TINY)


PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {
    "tiny": tiny, "tiny-resnet": tiny_resnet,
    **{f"{k}-300ep": partial(vit_paper, v) for k, v in VITS.items()},
    **{f"r50-{ep}ep": partial(r50_paper, ep) for ep in R50},
}


def linprobe_paper(arch: str) -> LinearProbeConfig:
    """ImageNet-1K linear classification (main_lincls.py): the frozen backbone in eval mode, a plain linear
    head N(0, 0.01), SGD momentum 0.9, wd 0, batch 1024 = 8 GPUs x 128, 90 epochs, cosine per epoch without
    warm-up, blr 3 (lr 12) for ViTs and 0.1 for ResNet-50, torchvision crops, no AMP."""
    vit = arch != "resnet50"
    return LinearProbeConfig(
        data="imagefolder:/datasets/imagenet", output_dir=f"output/mocov3-linprobe-{arch.replace('_', '-')}",
        arch="vit" if vit else "resnet", vit=official_vit(arch) if vit else official_vit("vit_base"),
        resnet=ResNetOptions(50, 64, False), finetune=FILES.get(arch, "r-50-100ep.pth.tar"), input_size=224,
        head="linear", optimizer="sgd", lr_schedule="epoch", train_crop="torchvision", epochs=90,
        warmup_epochs=0, batch_size=128, blr=3.0 if vit else 0.1, weight_decay=0.0, precision="fp32",
        num_workers=10, save_every=10, save_every_steps=500, log_every=20,
        launch=LaunchOptions(gpus_per_node=8, cpus_per_task=10, timeout_min=4320),
    )


def linprobe_tiny(arch: str = "vit") -> LinearProbeConfig:
    """Digits: the tiny pre-training's backbone (--finetune), the paper's protocol (linear head, SGD,
    per-epoch cosine, torchvision crops) for 15 epochs of batch 128 with blr 5."""
    return LinearProbeConfig(
        data="digits", output_dir=f"output/mocov3-linprobe-tiny{'-resnet' if arch == 'resnet' else ''}",
        arch=arch, vit=TINY_VIT, resnet=TINY_RESNET, input_size=32, head="linear", optimizer="sgd",
        lr_schedule="epoch", train_crop="torchvision", epochs=15, warmup_epochs=0, batch_size=128, blr=5.0,
        weight_decay=0.0, num_workers=0, save_every=15, log_every=10, device="cpu",
        launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2),
    )


LINPROBE_RECIPES: dict[str, Callable[[], LinearProbeConfig]] = {
    "tiny": linprobe_tiny, "tiny-resnet": partial(linprobe_tiny, "resnet"),
    "vit-small": partial(linprobe_paper, "vit_small"), "vit-base": partial(linprobe_paper, "vit_base"),
    "r50": partial(linprobe_paper, "resnet50"),
}


def export_tiny() -> ExportConfig:
    """The tiny pre-training's last checkpoint -> output/mocov3-tiny/backbone.pt."""
    return ExportConfig(checkpoint="output/mocov3-tiny/checkpoints/last.pt", output="output/mocov3-tiny/backbone.pt")


def export_official(name: str) -> ExportConfig:
    """A released pre-training file (dl.fbaipublicfiles.com/moco-v3/<name>/<name>.pth.tar) in this folder."""
    return ExportConfig(checkpoint=f"{name}.pth.tar", output=f"mocov3-{name}-backbone.pt")


EXPORT_RECIPES: dict[str, Callable[[], ExportConfig]] = {
    "tiny": export_tiny,
    **{n: partial(export_official, n) for n in ("vit-s-300ep", "vit-b-300ep", "r-50-100ep", "r-50-300ep",
                                                "r-50-1000ep")},
}
