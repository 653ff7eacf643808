"""Named presets of the rho-* commands: the paper's recipes (Kinetics-400, Slow-R50 8x8) and tiny CPU ones.

Pre-training (paper B.1): 200 epochs, batch 512 videos (64 GPUs x 8), cosine with 35 warm-up epochs, SGD
momentum 0.9; lr 0.4 for MoCo (wd 1e-4), 4.8 with LARS for BYOL, SimCLR and SwAV (wd 1e-6), i.e. blr 0.2 and
2.4 per 256 videos (the per-method fields are filled from --method: the paper's values, not the shipped
MoCo / SimCLR configs' duplicated BASE_LR keys). Linear probe: 60 epochs, lr 4.0 at batch 512 (cosine,
warm-up 8, wd 0), 10 x 3 test views. UCF101 / HMDB51 fine-tuning: 200 epochs, lr 0.025 at batch 64, wd 0,
dropout 0.8.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vis.core.config import LaunchOptions
from vis.rho.config import ClassifyConfig, ClipOptions, PretrainConfig

K400 = "kinetics:/datasets/kinetics400"
CLUSTER = LaunchOptions(nodes=8, gpus_per_node=8, cpus_per_task=10, timeout_min=4320)
SHARD = LaunchOptions(nodes=1, gpus_per_node=8, cpus_per_task=10, timeout_min=4320)
TINY_CLIP = ClipOptions(num_frames=4, sampling_rate=2)
TINY_LAUNCH = LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30)


def paper(rho: int) -> PretrainConfig:
    """Kinetics-400 pre-training of Slow-R50 8x8 with rho clips per video (any --method)."""
    return PretrainConfig(
        data=K400, output_dir=f"output/rho-k400-rho{rho}", rho=rho, backbone="slow-r50", clip=ClipOptions(8, 8),
        input_size=224, crop_scale=(0.2, 0.766), color_strength=0.75, queue_len=65536, prototypes=1000,
        epochs=200, warmup_epochs=35, batch_size=8, precision="fp16", num_workers=10, save_every=10,
        save_every_steps=1000, log_every=50, launch=CLUSTER,
    )


def tiny() -> PretrainConfig:
    """Persistent shapes (built-in MP4s), 4 frames x stride 2 at 32 px, Slow-R50 topology with widths / 8 and
    one block per stage, rho 2. Scaled to 32 px: crops of 40-100% of the area, blur sigma 0.1-0.3 px, colour
    strength 0.5. 40 epochs with LARS at lr 2.0 (blr 32 at 16 videos) for every method: the paper's rates by
    the linear scaling rule (MoCo 0.0125 with SGD, the others 0.15) barely move 750 steps, and blr 4 or 16
    learned less; see docs/rho.md for the measured time and numbers."""
    return PretrainConfig(
        data="persistent-shapes", output_dir="output/rho-tiny", rho=2, backbone="slow-tiny", clip=TINY_CLIP,
        input_size=32, crop_scale=(0.4, 1.0), blur_sigma=(0.1, 0.3), color_strength=0.5, dim=64, mlp_dim=256,
        queue_len=1024, prototypes=50, optimizer="lars", blr=32.0, weight_decay=1e-6, epochs=40, warmup_epochs=2,
        batch_size=16, num_workers=2, save_every=10, log_every=10, device="cpu", launch=TINY_LAUNCH,
    )


def linprobe_paper() -> ClassifyConfig:
    return ClassifyConfig(
        data=K400, output_dir="output/rho-linprobe-k400", backbone="slow-r50", clip=ClipOptions(8, 8),
        finetune="output/rho-k400-rho2/checkpoints/last.pt", input_size=224, crop_scale=(0.3, 0.8), epochs=60,
        warmup_epochs=8, batch_size=8, blr=2.0, weight_decay=0.0, temporal_views=10, spatial_views=3,
        eval_every=5, precision="fp16", num_workers=10, save_every=10, log_every=50, launch=CLUSTER,
    )


def finetune_paper(dataset: str) -> ClassifyConfig:
    """UCF101 / HMDB51 split-1 fine-tuning (CSV layout: PATH/{train,val}.csv with `<path> <label>`)."""
    return ClassifyConfig(
        data=f"kinetics:/datasets/{dataset}", output_dir=f"output/rho-finetune-{dataset}", backbone="slow-r50",
        clip=ClipOptions(8, 8), finetune="output/rho-k400-rho2/checkpoints/last.pt", input_size=224,
        crop_scale=(0.3, 0.8), dropout=0.8, epochs=200, warmup_epochs=0, batch_size=8, blr=0.1, weight_decay=0.0,
        temporal_views=10, spatial_views=3, eval_every=10, precision="fp16", num_workers=10, save_every=20,
        log_every=20, launch=SHARD,
    )


def classify_tiny(linear: bool) -> ClassifyConfig:
    """The tiny probe / fine-tuning on the persistent-shapes MP4s. The probe's lr is 0.00625 (blr 0.1): the
    paper's blr 2.0 scaled to 16 videos gave training losses up to 14 on 4 classes and a val accuracy that
    swung by 10 points between evaluations."""
    return ClassifyConfig(
        data="persistent-shapes", output_dir=f"output/rho-{'linprobe' if linear else 'finetune'}-tiny",
        backbone="slow-tiny", clip=TINY_CLIP, finetune=None, input_size=32, crop_scale=(0.5, 1.0),
        dropout=0.0 if linear else 0.5, head_bn=linear, epochs=20, warmup_epochs=1, batch_size=16,
        blr=0.1 if linear else 0.2, weight_decay=0.0, temporal_views=3, spatial_views=1, eval_batch_size=20,
        eval_every=5, num_workers=2, save_every=20, log_every=10, device="cpu", launch=TINY_LAUNCH,
    )


PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {
    "tiny": tiny, **{f"k400-rho{r}": partial(paper, r) for r in (1, 2, 3, 4)},
}
LINPROBE_RECIPES = {"tiny": partial(classify_tiny, True), "k400": linprobe_paper}
FINETUNE_RECIPES = {"tiny": partial(classify_tiny, False), "ucf101": partial(finetune_paper, "ucf101"),
                    "hmdb51": partial(finetune_paper, "hmdb51")}
