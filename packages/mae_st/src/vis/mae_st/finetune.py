"""maest-finetune: end-to-end fine-tuning of an MAE-ST encoder on video classification (section 4).

The decoder is discarded; the encoder (vis, mae_st or PySlowFast file, --finetune FILE; its architecture is
read from the weights) gets a head on the mean of its patch tokens (LayerNorm, dropout 0.3, linear) and is
trained on R clips per decoded video with layer-wise lr decay, drop path, RandAugment applied alike to
every frame, random erasing, mixup / cutmix and label smoothing. Top-1 on the middle clip of each val video
every epoch (maest-test runs the multi-view protocol); the best epoch is kept as checkpoints/best.pt.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from vis.core.eval.finetune import ClassifierParts, finetune
from vis.core.models import VisionTransformer
from vis.mae_st.config import FinetuneConfig
from vis.mae_st.convert import load_video_classifier, read_video_weights
from vis.mae_st.data import finetune_transform, test_transform

log = logging.getLogger("vis")


def build_classifier(cfg, num_classes: int, drop_path: float = 0.0, head_drop: float = 0.0) -> VisionTransformer:
    """The video classifier: the MAE-ST encoder, mean of the patch tokens, LayerNorm, dropout, head."""
    return VisionTransformer(
        img_size=cfg.input_size, num_classes=num_classes, drop_path_rate=drop_path, head_drop=head_drop,
        global_pool="avg", pos_embed="separable", num_frames=cfg.clip.num_frames,
        t_patch_size=cfg.clip.t_patch_size, **vars(cfg.vit),
    )


def arch_from_checkpoint(cfg, info: dict) -> None:
    """Take the architecture of a weights file into `cfg` (its flags may say otherwise: log what changed)."""
    vit = {k: info[k] for k in ("embed_dim", "depth", "patch_size") if k in info}
    if info.get("num_heads"):
        vit["num_heads"] = info["num_heads"]
    clip = {"t_patch_size": info["t_patch_size"], "num_frames": info["num_frames"]}
    if "sampling_rate" in info:
        clip["sampling_rate"] = info["sampling_rate"]
    changed = {k: v for k, v in {**vit, **clip}.items() if getattr(cfg.vit, k, getattr(cfg.clip, k, None)) != v}
    cfg.vit = dataclasses.replace(cfg.vit, **vit)
    cfg.clip = dataclasses.replace(cfg.clip, **clip)
    if changed:
        log.info(f"architecture from the checkpoint: {', '.join(f'{k} {v}' for k, v in changed.items())}")


def main(cfg: FinetuneConfig) -> dict[str, Any]:
    weights = None
    if cfg.finetune:
        weights, info = read_video_weights(cfg.finetune)
        arch_from_checkpoint(cfg, info)
    parts = ClassifierParts(
        build=lambda n: build_classifier(cfg, n, cfg.drop_path, cfg.head_drop),
        train_transform=finetune_transform(cfg),
        eval_transform=test_transform(cfg.clip, cfg.input_size, 1, 1, cfg.shuffle_frames),
        samples_per_item=cfg.clip.repeat_aug,
    )
    return finetune(cfg, lambda model, _sd, source: load_video_classifier(model, weights, source), parts)


if __name__ == "__main__":  # python -m vis.mae_st.finetune (torchrun)
    from vis.mae_st import cli

    cli.finetune.cli()
