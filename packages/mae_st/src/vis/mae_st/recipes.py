"""Named presets of the maest-* commands: the paper's Kinetics-400 recipes and tiny CPU recipes.

Pre-training (paper, mae_st PRETRAIN.md): 16 x 4 clips, patches 2 x 16 x 16, mask 0.9, decoder 512 x 4,
norm-pix target, AdamW (0.9, 0.95), wd 0.05, blr 1.6e-3 per 256 videos (repeats not counted), 2 videos x
R 4 clips per GPU on 8 x 8 GPUs (512 clips), 5 warm-up epochs, cosine, grad clip 0.02, fp32. Loader epochs
x R = effective epochs: 100 x 4 = 400; the released models 400 x 4 = 1600.
Fine-tuning: 50 epochs, warm-up 5, blr 2.4e-3 (repeats counted), 2 videos x R 2 per GPU, AdamW
(0.9, 0.999), wd 0.05, layer decay 0.75, drop path 0.2, head dropout 0.3, RandAugment m7-mstd0.5-inc1,
erasing 0.25, mixup 0.8 / cutmix 1.0, smoothing 0.1, grad clip 5. Testing: 7 temporal x 3 spatial views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vis.core.config import DecoderOptions, LaunchOptions, ViTOptions
from vis.mae_st.config import ClipOptions, FinetuneConfig, PretrainConfig, TestConfig, ValidateConfig

# the released ViT-H models use 16 x 16 patches (mae_st's pre-training code names it patch14: reference 3.2)
SIZES = {"base": ViTOptions(16, 768, 12, 12), "large": ViTOptions(16, 1024, 24, 16),
         "huge": ViTOptions(16, 1280, 32, 16)}
K400 = "kinetics:/datasets/kinetics400"
CLUSTER = LaunchOptions(nodes=8, gpus_per_node=8, cpus_per_task=10, timeout_min=4320)
TINY_VIT = ViTOptions(patch_size=8, embed_dim=64, depth=4, num_heads=4)
TINY_CLIP = ClipOptions(num_frames=16, sampling_rate=1, t_patch_size=2, repeat_aug=2)
TINY_LAUNCH = LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=30)


def paper(size: str, effective_epochs: int) -> PretrainConfig:
    """Kinetics-400 pre-training of ViT-{size} for `effective_epochs` (= loader epochs x 4 repeats)."""
    return PretrainConfig(
        data=K400, output_dir=f"output/maest-vit-{size}-k400-{effective_epochs}ep", input_size=224,
        vit=SIZES[size], clip=ClipOptions(16, 4, 30.0, 2, 4), decoder=DecoderOptions(512, 4, 16), mask_ratio=0.9,
        pred_t_dim=8, norm_pix_loss=True, crop_min_scale=0.5, epochs=effective_epochs // 4, warmup_epochs=5,
        batch_size=2, blr=1.6e-3, min_lr=0.0, weight_decay=0.05, clip_grad=0.02, precision="fp32",
        num_workers=10, save_every=5, save_every_steps=1000, log_every=50, launch=CLUSTER,
    )


def tiny() -> PretrainConfig:
    """Moving shapes (built-in MP4s), 16-frame clips of 32 px, patches 2 x 4 x 4 (512 tokens, 51 kept), ViT
    64 x 4, decoder 64 x 2, R 2; see docs/mae_st.md for the measured time and numbers."""
    return PretrainConfig(
        data="moving-shapes", output_dir="output/maest-tiny", input_size=32, vit=TINY_VIT, clip=TINY_CLIP,
        decoder=DecoderOptions(64, 2, 4), mask_ratio=0.9, pred_t_dim=8, crop_min_scale=0.5, epochs=10,
        warmup_epochs=1, batch_size=16, blr=1e-2, weight_decay=0.05, clip_grad=0.02, num_workers=2, save_every=5,
        log_every=10, device="cpu", launch=TINY_LAUNCH,
    )


def finetune_paper(size: str) -> FinetuneConfig:
    """Kinetics-400 fine-tuning of a pre-trained MAE-ST ViT-{size} (architecture read from --finetune)."""
    return FinetuneConfig(
        data=K400, output_dir=f"output/maest-finetune-vit-{size}-k400", vit=SIZES[size],
        clip=ClipOptions(16, 4, 30.0, 2, 2), finetune=f"output/maest-vit-{size}-k400-1600ep/checkpoints/last.pt",
        input_size=224, epochs=50, warmup_epochs=5, batch_size=2, blr=2.4e-3, min_lr=1e-6, weight_decay=0.05,
        layer_decay=0.75, drop_path=0.2, head_drop=0.3, mixup=0.8, cutmix=1.0, smoothing=0.1, reprob=0.25,
        aa="rand-m7-mstd0.5-inc1", crop_min_scale=0.08, clip_grad=5.0, precision="fp32", num_workers=10,
        eval_batch_size=8, save_every=5, save_every_steps=1000, log_every=50, launch=CLUSTER,
    )


def finetune_tiny() -> FinetuneConfig:
    return FinetuneConfig(
        data="moving-shapes", output_dir="output/maest-finetune-tiny", vit=TINY_VIT, clip=TINY_CLIP,
        finetune="output/maest-tiny/checkpoints/last.pt", input_size=32, epochs=15, warmup_epochs=2, batch_size=16,
        blr=5e-3, min_lr=1e-6, weight_decay=0.05, layer_decay=0.75, drop_path=0.1, head_drop=0.3, mixup=0.8,
        cutmix=1.0, smoothing=0.1, reprob=0.25, aa="rand-m7-mstd0.5-inc1", crop_min_scale=0.35, clip_grad=5.0,
        eval_batch_size=50, num_workers=2, save_every=5, log_every=10, device="cpu", launch=TINY_LAUNCH,
    )


def test_paper(size: str) -> TestConfig:
    return TestConfig(data=K400, checkpoint=f"output/maest-finetune-vit-{size}-k400/checkpoints/best.pt",
                      output_dir=f"output/maest-finetune-vit-{size}-k400", vit=SIZES[size],
                      clip=ClipOptions(16, 4, 30.0, 2, 1), input_size=224, temporal_views=7, spatial_views=3,
                      batch_size=4, num_workers=10, launch=LaunchOptions(gpus_per_node=8, cpus_per_task=10))


def test_tiny() -> TestConfig:
    return TestConfig(data="moving-shapes", checkpoint="output/maest-finetune-tiny/checkpoints/best.pt",
                      output_dir="output/maest-finetune-tiny", vit=TINY_VIT, clip=TINY_CLIP, input_size=32,
                      temporal_views=3, spatial_views=3, batch_size=20, device="cpu", launch=TINY_LAUNCH)


PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {
    "tiny": tiny, **{f"vit-{s}-k400-{ep}ep": partial(paper, s, ep) for s in SIZES for ep in (400, 1600)}}
FINETUNE_RECIPES = {"tiny": finetune_tiny, **{f"vit-{s}-k400": partial(finetune_paper, s) for s in SIZES}}
TEST_RECIPES = {"tiny": test_tiny, **{f"vit-{s}-k400": partial(test_paper, s) for s in SIZES}}
VALIDATE_RECIPES = {"tiny": lambda: ValidateConfig(data="moving-shapes", device="cpu"),
                    "k400": lambda: ValidateConfig(data=K400, num_workers=16)}
