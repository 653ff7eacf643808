"""mae-visualize: MAE reconstructions as a PNG grid, one row per image:
original | masked | reconstruction | reconstruction with the visible patches pasted back.

Works with a vis mae-pretrain checkpoint or an official full / visualize file (these hold the decoder; the
encoder-only mae_pretrain_vit_*.pth files cannot reconstruct anything and are refused).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vis.core.checkpoint import FORMAT
from vis.core.convert import model_state, read_checkpoint, split_mae, strict_load
from vis.core.data import parse_data_spec
from vis.core.data.folder import ImageFiles
from vis.core.data.skips import readable_samples
from vis.core.data.transforms import center_crop
from vis.core.dist import start_run
from vis.core.errors import UserError
from vis.core.viz import save_image_grid
from vis.mae.config import VisualizeConfig
from vis.mae.model import MaskedAutoencoderViT
from vis.mae.reconstruct import reconstruction_rows

log = logging.getLogger("vis")


def load_mae(cfg: VisualizeConfig, path: str) -> MaskedAutoencoderViT:
    """Build the MAE the checkpoint describes and load it strictly. A vis checkpoint carries its config;
    an official file is read with the architecture given by the flags."""
    state = read_checkpoint(path)
    arch = {"img_size": cfg.input_size, **vars(cfg.vit), **vars(cfg.decoder), "norm_pix_loss": cfg.norm_pix_loss}
    if state.get("format") == FORMAT:
        saved = state["config"]
        arch = {"img_size": saved["input_size"], **saved["vit"], **saved["decoder"],
                "norm_pix_loss": saved["norm_pix_loss"]}
    model = MaskedAutoencoderViT(**arch, mask_ratio=cfg.mask_ratio)
    enc, dec = split_mae(model_state(state, path))
    if not dec:
        raise UserError("checkpoint has no decoder (encoder-only pre-trained weights cannot reconstruct)", path,
                        "use a mae-pretrain checkpoint or an official mae_visualize_* / full file")
    strict_load(model.encoder, enc, path, may_drop={"head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"})
    strict_load(model.decoder, dec, path)
    return model


def main(cfg: VisualizeConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    model = load_mae(cfg, cfg.checkpoint).to(ctx.device)
    size = model.encoder.patch_embed.img_size
    tf = center_crop(size)
    if cfg.images:
        data, count = ImageFiles(cfg.images), len(cfg.images)
    else:
        spec = parse_data_spec(cfg.data)
        data, count = spec.dataset("val" if spec.has_split("val") else "train"), cfg.num_samples
    imgs = readable_samples(data, count, tf, "mae-visualize")
    rows = reconstruction_rows(model, imgs.to(ctx.device), mask_seed=cfg.mask_seed)
    out = Path(cfg.output_dir) / f"visualize-seed{cfg.mask_seed}.png"
    save_image_grid([r.cpu() for r in rows], out, upscale=max(1, 128 // size))
    log.info(f"wrote {out} (original | masked | reconstruction | reconstruction + visible"
             f"{'; norm-pix predictions shown with each target patch’s mean and std' if model.norm_pix_loss else ''})")
    return {"figure": str(out)}


if __name__ == "__main__":  # python -m vis.mae.visualize (torchrun)
    from vis.mae import cli

    cli.visualize.cli()
