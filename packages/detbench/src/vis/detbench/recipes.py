"""Named presets for detbench-train / detbench-eval: the paper's COCO recipes per size, initialisation and
schedule length (Li et al., 2021, section 3 and the MAE paper's appendix A.3), and tiny CPU recipes on the
synthetic shapes, one per initialisation.

Paper: Mask R-CNN + FPN on ViT-B / ViT-L, AdamW (0.9, 0.999), batch 64, 1024 px LSJ [0.1, 2.0], linear
warm-up for 0.25 epoch then half-period cosine, no gradient clipping, SyncBN, drop path 0.1 (B) / 0.3 (L);
lr 1.6e-4 (random, MoCo v3) or 8e-5 (the others), wd 0.2 (random) or 0.1; schedules of 25 / 50 / 100
epochs for pre-trained inits and 100 / 200 / 400 from random init (the best length is reported). Layer-wise
lr decay is not described in the paper: off (1.0) here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from vis.core.config import LaunchOptions, ViTOptions, vit_size
from vis.detbench.config import BenchDetOptions, EvalBenchConfig, TrainBenchConfig

SIZES = {"b": ("vit_base_patch16", 0.1, "base"), "l": ("vit_large_patch16", 0.3, "large")}
# init -> (lr, weight decay, schedule lengths in epochs)
INITS = {"random": (1.6e-4, 0.2, (100, 200, 400)), "supervised": (8e-5, 0.1, (25, 50, 100)),
         "mocov3": (1.6e-4, 0.1, (25, 50, 100)), "beit": (8e-5, 0.1, (25, 50, 100)),
         "mae": (8e-5, 0.1, (25, 50, 100))}
# where the paper recipes expect each initialisation's weights (override with --init KIND:FILE)
FILES = {"supervised": "/checkpoints/deit_{name}_patch16_224.pth", "mocov3": "/checkpoints/mocov3-vit-{s}-300ep.pth",
         "beit": "/checkpoints/beit_{name}_patch16_224_in1k_800ep.pth",
         "mae": "/checkpoints/mae_pretrain_vit_{name}.pth"}
BEIT_LAYER_SCALE = {"b": 0.1, "l": 1e-5}  # BEiT's init values; the checkpoint's gamma replaces them


def init_spec(kind: str, size: str) -> str:
    return "random" if kind == "random" else f"{kind}:{FILES[kind].format(name=SIZES[size][2], s=size)}"


def paper(size: str, kind: str, epochs: int) -> TrainBenchConfig:
    """COCO Mask R-CNN with ViT-{size} from `kind` weights, batch 64 = 8 nodes x 8 GPUs x 1 image."""
    name, dp, _ = SIZES[size]
    lr, wd, _ = INITS[kind]
    det = BenchDetOptions(drop_path=dp, checkpoint_blocks=size != "b", norm="bn",
                          layer_scale=BEIT_LAYER_SCALE[size] if kind == "beit" else None)
    return TrainBenchConfig(
        data="coco:/datasets/coco", output_dir=f"output/detbench-vit-{size}-{kind}-{epochs}ep",
        vit=dataclasses.replace(vit_size(name)), det=det, img_size=1024, scale_range=(0.1, 2.0),
        init=init_spec(kind, size), layer_decay=1.0, epochs=epochs, batch_size=1, lr=lr, weight_decay=wd,
        warmup_epochs=0.25, precision="fp16", num_workers=8, save_every=5, save_every_steps=2000, log_every=20,
        eval_every=5, launch=LaunchOptions(nodes=8, gpus_per_node=8, cpus_per_task=10, timeout_min=4320),
    )


TINY_VIT = ViTOptions(patch_size=8, embed_dim=64, depth=4, num_heads=4)
TINY_DET = BenchDetOptions(window_size=8, pretrain_img_size=64, drop_path=0.0, head_channels=64, fc_dim=256,
                           anchor_sizes=[8, 16, 32, 64, 128], num_classes=3, rois_per_image=64, rpn_post_nms=200,
                           detections_per_img=30, norm="gn")
# the repo's own tiny runs that write each kind of weights (docs/detbench.md has the commands)
TINY_FILES = {"supervised": "output/mae-finetune-tiny/checkpoints/best.pt",
              "mocov3": "output/mocov3-tiny/backbone.pt", "beit": "output/beit-tiny.pt",
              "mae": "output/mae-tiny/checkpoints/last.pt"}


def tiny(kind: str = "random") -> TrainBenchConfig:
    """Synthetic shapes at 128 px: ViT 64-d x 4 blocks (patch 8: 16 x 16 tokens; one block per quarter, so
    every block is a tap and global), FPN and heads of width 64 with GN (BN's running statistics are not
    settled after a few hundred steps: 0 AP where GN gives AP50 0.6 after 32 steps, docs/detbench.md),
    LSJ [0.5, 2.0], AdamW lr 1e-3, 0.25-epoch warm-up then half cosine; the pre-trained kinds read the
    repo's tiny 32 px / patch-4 ViTs (kernel resampled 4 -> 8, position table 8 x 8 kept)."""
    return TrainBenchConfig(
        data="shapes", output_dir=f"output/detbench-tiny-{kind}", vit=TINY_VIT,
        det=dataclasses.replace(TINY_DET, layer_scale=0.1 if kind == "beit" else None), img_size=128,
        scale_range=(0.5, 2.0), init="random" if kind == "random" else f"{kind}:{TINY_FILES[kind]}",
        layer_decay=1.0, epochs=2, batch_size=4, lr=1e-3, weight_decay=0.1, warmup_epochs=0.25, precision="fp32",
        num_workers=1, save_every=1, log_every=10, eval_every=2, device="cpu",
        launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30),
    )


def tiny_windows() -> TrainBenchConfig:
    """Random init at depth 8: groups of 2 blocks, window 4 in the non-tap blocks, so both shared bias
    tables (window and global) are used."""
    return dataclasses.replace(tiny(), output_dir="output/detbench-tiny-windows",
                               vit=dataclasses.replace(TINY_VIT, depth=8),
                               det=dataclasses.replace(TINY_DET, window_size=4))


TRAIN_RECIPES: dict[str, Callable[[], TrainBenchConfig]] = {
    "tiny": tiny,
    **{f"tiny-{k}": (lambda k=k: tiny(k)) for k in INITS if k != "random"},
    "tiny-windows": tiny_windows,
    **{f"mask-rcnn-vit-{s}-{k}-{ep}ep": (lambda s=s, k=k, ep=ep: paper(s, k, ep))
       for s in SIZES for k, (_, _, eps) in INITS.items() for ep in eps},
}


def eval_preset(train: Callable[[], TrainBenchConfig]) -> Callable[[], EvalBenchConfig]:
    def make() -> EvalBenchConfig:
        t = train()
        return EvalBenchConfig(data=t.data, checkpoint=f"{t.output_dir}/checkpoints/last.pt", vit=t.vit, det=t.det,
                               img_size=t.img_size, output_dir=t.output_dir, device=t.device,
                               num_workers=t.num_workers, launch=t.launch)
    return make


EVAL_RECIPES: dict[str, Callable[[], EvalBenchConfig]] = {k: eval_preset(v) for k, v in TRAIN_RECIPES.items()}
