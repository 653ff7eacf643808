"""rcg-sample: unconditional generation with RCG (Li, Katabi and He, section 3).

The RDM (EMA weights, DDIM with eta 1) samples a representation; the pixel generator (EMA weights) turns it
into an image, optionally with classifier-free guidance on the representation. Sample i is seeded by its
index, so the same command gives the same images on any number of processes; each process makes its share
in batches under a progress bar and writes its own PNGs (--save-images); rank 0 writes samples.png.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from vis.core.convert import model_state, read_checkpoint, strict_load
from vis.core.dist import barrier, start_run
from vis.core.errors import UserError
from vis.core.eval.generative import generate_sharded, to_uint8
from vis.core.viz import save_image_grid
from vis.rcg.config import PixelConfig, RdmConfig, SampleConfig
from vis.rcg.generator import PixelGenerator
from vis.rcg.rdm import RDM
from vis.rcg.stages import index_generators

log = logging.getLogger("vis")


def _stage_config(path: str, cls: type, field: str) -> tuple[Any, dict]:
    state = read_checkpoint(path)
    cfg = state.get("config")
    if not isinstance(cfg, dict) or field not in cfg:
        raise UserError(f"not an {cls.__name__.replace('Config', '').lower()} checkpoint of rcg", path,
                        f"pass the checkpoints/last.pt of rcg-train-{'rdm' if cls is RdmConfig else 'pixel'}")
    known = {k: v for k, v in cfg.items() if k in cls.__dataclass_fields__ and k != "launch"}
    return cls(**known), model_state(state, path)


def load_rdm(path: str) -> RDM:
    """The RDM of an rcg-train-rdm checkpoint (its size from the saved config; rep_dim from the weights)."""
    from vis.rcg.train_rdm import build_rdm

    cfg, sd = _stage_config(path, RdmConfig, "rdm_depth")
    model = build_rdm(cfg, sd["net.input_proj.weight"].shape[1])
    strict_load(model, sd, path)
    return model


def load_generator(path: str) -> tuple[PixelGenerator, PixelConfig]:
    """The pixel generator of an rcg-train-pixel checkpoint and the config it was trained with."""
    from vis.rcg.train_pixel import build_generator

    cfg, sd = _stage_config(path, PixelConfig, "channel_mult")
    cfg.channel_mult, cfg.attention_resolutions = tuple(cfg.channel_mult), tuple(cfg.attention_resolutions)
    model = build_generator(cfg, sd["fake_latent"].shape[1])
    strict_load(model, sd, path)
    return model, cfg


def main(cfg: SampleConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    rdm = load_rdm(str(cfg.rdm)).to(ctx.device).eval()
    gen, pixel_cfg = load_generator(str(cfg.pixel))
    gen = gen.to(ctx.device).eval()
    if rdm.rep_dim != gen.rep_dim:
        raise UserError(f"the RDM makes {rdm.rep_dim}-d representations, the generator takes {gen.rep_dim}-d",
                        str(cfg.pixel), "pass an RDM and a generator trained with the same encoder")
    out = Path(cfg.output_dir)
    images_dir = out / "images"
    if ctx.is_main:
        images_dir.mkdir(parents=True, exist_ok=True) if cfg.save_images else out.mkdir(parents=True, exist_ok=True)
    barrier()

    def make(idx: torch.Tensor) -> torch.Tensor:
        gens = index_generators(cfg.seed, idx)  # one stream per sample: the RDM's draws, then the generator's
        reps = rdm.sample(len(idx), cfg.rdm_steps, cfg.rdm_eta, gens, ctx.device)
        imgs = gen.sample(reps, cfg.pixel_steps, cfg.pixel_eta, cfg.cfg, gens)
        if cfg.save_images:
            from torchvision.io import write_png

            for i, img in zip(idx.tolist(), to_uint8(imgs).cpu(), strict=True):
                if i < cfg.num_samples:
                    tmp = images_dir / f"{i:06d}.tmp.png"
                    write_png(img, str(tmp))
                    tmp.replace(images_dir / f"{i:06d}.png")
        return imgs[: min(len(idx), cfg.grid)].cpu() if idx[0] < cfg.grid else imgs[:0].cpu()

    shown = generate_sharded(make, cfg.num_samples, cfg.batch_size, "rcg samples", gather=False)
    barrier()
    result = {"num_samples": cfg.num_samples, "images": str(images_dir) if cfg.save_images else None}
    if ctx.is_main and len(shown):
        side = max(1, int(len(shown) ** 0.5))
        grid = save_image_grid(list(shown[: side * side].view(side, side, *shown.shape[1:]).transpose(0, 1)),
                               out / "samples.png", upscale=max(1, 64 // pixel_cfg.input_size))
        result["grid"] = str(grid)
        log.info(f"wrote {grid} and {cfg.num_samples} samples{' under ' + str(images_dir) if cfg.save_images else ''}")
    return result


if __name__ == "__main__":  # python -m vis.rcg.sample (torchrun)
    from vis.rcg import cli

    cli.sample.cli()
