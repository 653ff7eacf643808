"""Named presets for vitdet-train / vitdet-eval: the paper's COCO recipes (detectron2 projects/ViTDet
LazyConfigs, paper Table 11) and a tiny CPU recipe on the synthetic shapes.

Paper: AdamW (0.9, 0.999), lr 1e-4, wd 0.1, batch 64 (1 image per GPU on 8 nodes x 8 GPUs), LSJ 1024 with
scale [0.1, 2.0], 100 epochs (184,375 iterations) for ViT-B, 75 for ViT-H, lr x 0.1 at 88.9% and 96.3%,
250 warm-up iterations from lr x 0.001, drop path 0.1 / 0.4 / 0.5, layer decay 0.7 / 0.8 / 0.9, window 14
with 4 global blocks, decomposed rel-pos, MAE initialisation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from vis.core.config import LaunchOptions, ViTOptions, vit_size
from vis.vitdet.config import DetectorOptions, EvalDetConfig, TrainDetConfig

# size -> (timm size, drop path, layer decay, official MAE file)
SIZES = {"b": ("vit_base_patch16", 0.1, 0.7, "mae_pretrain_vit_base.pth"),
         "l": ("vit_large_patch16", 0.4, 0.8, "mae_pretrain_vit_large.pth"),
         "h": ("vit_huge_patch14", 0.5, 0.9, "mae_pretrain_vit_huge.pth")}
COCO_TRAIN_IMAGES = 118_287
WARMUP_ITERS, BATCH = 250, 64


def det_vit(size: str) -> ViTOptions:
    """The detection trunk's size: patch 16 for all three (ViT-H's patch-14 MAE kernel is resampled)."""
    return dataclasses.replace(vit_size(SIZES[size][0]), patch_size=16)


def paper(size: str, cascade: bool, epochs: int) -> TrainDetConfig:
    """COCO Mask R-CNN / Cascade Mask R-CNN with ViT-{size} from MAE weights on 8 nodes x 8 GPUs."""
    name, dp, ld, mae = SIZES[size]
    arch = "cascade-mask-rcnn" if cascade else "mask-rcnn"
    return TrainDetConfig(
        data="coco:/datasets/coco", output_dir=f"output/vitdet-{arch}-vit-{size}-{epochs}ep",
        vit=det_vit(size), det=DetectorOptions(drop_path=dp, cascade=cascade, checkpoint_blocks=size != "b"),
        img_size=1024, scale_range=(0.1, 2.0), init=f"/checkpoints/{mae}", layer_decay=ld,
        vit_norm_no_decay=size != "h", epochs=epochs, batch_size=1, lr=1e-4, weight_decay=0.1,
        warmup_epochs=WARMUP_ITERS * BATCH / COCO_TRAIN_IMAGES, lr_steps=(0.889, 0.963), precision="bf16",
        num_workers=8, save_every=5, save_every_steps=2000, log_every=20, eval_every=10,
        launch=LaunchOptions(nodes=8, gpus_per_node=8, cpus_per_task=10, timeout_min=4320),
    )


TINY_VIT = ViTOptions(patch_size=8, embed_dim=64, depth=4, num_heads=4)
TINY_DET = DetectorOptions(window_size=8, global_blocks=[1, 3], use_rel_pos=True, pretrain_img_size=64, drop_path=0.0,
                           head_channels=64, fc_dim=256, anchor_sizes=[8, 16, 32, 64, 128], num_classes=3,
                           rois_per_image=64, rpn_post_nms=200, detections_per_img=30)


def tiny() -> TrainDetConfig:
    """Synthetic shapes at 128 px: ViT 64-d x 4 (patch 8, 16 x 16 tokens, window 8 = the 8 x 8 grid of the
    tiny MAE, global blocks {1, 3}), heads of width 64, scale jitter [0.8, 1.25] (the paper's [0.1, 2.0]
    learns several times slower in this few steps), 6 epochs of batch 4 (600 steps, about 8 minutes on
    one CPU thread)."""
    return TrainDetConfig(
        data="shapes", output_dir="output/vitdet-tiny", vit=TINY_VIT, det=TINY_DET, img_size=128,
        scale_range=(0.8, 1.25), layer_decay=0.8, epochs=6, batch_size=4, lr=1e-3, weight_decay=0.1,
        warmup_epochs=0.1, precision="fp32", num_workers=1, save_every=1, log_every=10, eval_every=2,
        device="cpu", launch=LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30),
    )


TRAIN_RECIPES: dict[str, Callable[[], TrainDetConfig]] = {
    "tiny": tiny,
    **{f"mask-rcnn-vit-{s}-{ep}ep": (lambda s=s, ep=ep: paper(s, False, ep))
       for s, ep in (("b", 100), ("l", 100), ("l", 75), ("h", 75))},
    **{f"cascade-mask-rcnn-vit-{s}-{ep}ep": (lambda s=s, ep=ep: paper(s, True, ep))
       for s, ep in (("b", 100), ("l", 100), ("l", 75), ("h", 75))},
}


def eval_preset(train: Callable[[], TrainDetConfig]) -> Callable[[], EvalDetConfig]:
    def make() -> EvalDetConfig:
        t = train()
        return EvalDetConfig(data=t.data, checkpoint=f"{t.output_dir}/checkpoints/last.pt", vit=t.vit, det=t.det,
                             img_size=t.img_size, output_dir=t.output_dir, device=t.device, num_workers=t.num_workers,
                             launch=t.launch)
    return make


EVAL_RECIPES: dict[str, Callable[[], EvalDetConfig]] = {k: eval_preset(v) for k, v in TRAIN_RECIPES.items()}
