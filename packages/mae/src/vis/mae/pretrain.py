"""mae-pretrain: masked-autoencoder pre-training (He et al., 2022, section 3).

An image is split into patches; 75% of them, drawn per sample, are removed; the encoder sees only the
visible quarter; a light decoder fills in mask tokens and regresses the pixels of the removed patches
(normalised per patch); the loss counts removed patches only. Afterwards the encoder is kept and the
decoder discarded.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.skips import readable_samples
from vis.core.data.transforms import center_crop, random_resized_crop_flip
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.knn import KnnMonitor
from vis.core.models import per_sample_noise
from vis.core.optim import param_groups
from vis.core.viz import save_image_grid
from vis.mae.config import PretrainConfig
from vis.mae.model import MaskedAutoencoderViT
from vis.mae.reconstruct import reconstruction_rows

log = logging.getLogger("vis")


def build_model(cfg: PretrainConfig) -> MaskedAutoencoderViT:
    return MaskedAutoencoderViT(
        img_size=cfg.input_size, **vars(cfg.vit), **vars(cfg.decoder), mask_ratio=cfg.mask_ratio,
        norm_pix_loss=cfg.norm_pix_loss,
    )


def encode_avg(model: MaskedAutoencoderViT):
    """Frozen features for the kNN monitor: mean of the encoder's patch tokens on the whole image (MAE's
    cls token receives no training signal in pre-training)."""
    def encode(x: torch.Tensor) -> torch.Tensor:
        model.eval()
        tokens = model.encoder.forward_features(x)
        return tokens[:, model.encoder.num_prefix_tokens :].mean(dim=1)
    return encode


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train = SeededDataset(spec.dataset("train"), random_resized_crop_flip(cfg.input_size, (cfg.crop_min_scale, 1.0)),
                          cfg.seed)
    model = build_model(cfg)
    eval_tf = center_crop(cfg.input_size)
    knn = KnnMonitor(encode_avg, spec, eval_tf, cfg, ctx)
    task = Task(
        model=model, train_data=train,
        forward=lambda m, b: m(b["image"], noise=per_sample_noise(b["seed"], model.num_patches, b["image"].device)),
        param_groups=lambda m: param_groups(m, cfg.weight_decay), optimizer="adamw", betas=(0.9, 0.95),
        evaluate=knn.evaluate,
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if trainer.stopped or trainer.epoch < cfg.epochs:
        return result
    full_model = trainer.eval_model()  # collective under FSDP
    if ctx.is_main:
        write_figures(cfg, full_model, spec, eval_tf, ctx.device)
    return knn.summary(result, trainer.step, trainer.out, lambda: build_model(cfg))


def write_figures(cfg: PretrainConfig, model: MaskedAutoencoderViT, spec, eval_tf, device) -> None:
    data = spec.dataset("val" if spec.has_split("val") else "train")
    imgs = readable_samples(data, cfg.num_figures, eval_tf, "reconstruction figure").to(device)
    rows = reconstruction_rows(model, imgs, mask_seed=cfg.seed)
    path = save_image_grid(rows, f"{cfg.output_dir}/figures/reconstructions.png", upscale=max(1, 128 // cfg.input_size))
    log.info(f"reconstructions: {path} (columns: original | masked | reconstruction | reconstruction + visible)")


if __name__ == "__main__":  # python -m vis.mae.pretrain (torchrun)
    from vis.mae import cli

    cli.pretrain.cli()
