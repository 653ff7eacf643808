"""rcg-eval: how close generated images are to real ones (RCG section 4, App. B).

Reads a folder of generated PNGs (rcg-sample --save-images) and the images of a split of --data. The
representation Frechet distance (rep-FD) compares their standardised MoCo v3 representations and needs no
Inception network. FID (against the split, or precomputed statistics such as ADM's reference batch), the
Inception score and improved precision / recall use torch-fidelity's InceptionV3, read from the local file
--inception-weights. Images are read and encoded in batches, sharded over processes; unreadable files are
skipped, named and counted against --max-skipped-fraction. Results go to <output-dir>/eval.json.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from vis.core.data import parse_data_spec
from vis.core.data.skips import SkipCount
from vis.core.dist import start_run
from vis.core.errors import UserError
from vis.core.eval import generative as gen
from vis.core.eval.knn import extract_features
from vis.rcg.config import EvalConfig
from vis.rcg.encoder import load_encoder
from vis.rcg.stages import eval_pipeline

log = logging.getLogger("vis")


class PngFolder(torch.utils.data.Dataset):
    """The PNG / JPEG files of a folder as (uint8 [3, H, W], 0), in name order."""

    def __init__(self, root: str):
        self.files = sorted(p for p in Path(root).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from torchvision.io import ImageReadMode, decode_image

        return decode_image(str(self.files[i]), mode=ImageReadMode.RGB), 0

    def describe(self, i: int) -> str:
        return str(self.files[i])


def _spread(dataset: torch.utils.data.Dataset, n: int) -> torch.utils.data.Dataset:
    if len(dataset) <= n:
        return dataset
    return torch.utils.data.Subset(dataset, torch.linspace(0, len(dataset) - 1, n).long().tolist())


def main(cfg: EvalConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    fake_set = PngFolder(str(cfg.samples))
    if len(fake_set) < 2:
        raise UserError(f"{len(fake_set)} images in the samples folder", str(cfg.samples), "need at least 2 PNGs")
    size = fake_set[0][0].shape[-1]
    spec = parse_data_spec(cfg.data)
    real_set = _spread(spec.dataset(cfg.split), cfg.max_real)
    skips = SkipCount(cfg.max_skipped_fraction, cfg.data, "evaluation")
    as_float = lambda x: x.float() / 255
    feats = lambda encode, data, tf: extract_features(encode, data, tf, cfg.batch_size, ctx.device, skips, ctx.rank)[0]
    real_tf = eval_pipeline(size)
    result: dict[str, Any] = {"samples": len(fake_set), "real": len(real_set), "reference": cfg.fid_stats or
                              f"{cfg.data}:{cfg.split}", "size": size}
    if "rep_fd" in cfg.metrics:
        encoder = load_encoder(str(cfg.encoder)).to(ctx.device)
        result["rep_fd"] = gen.feature_fd(feats(encoder, fake_set, as_float).cpu(),
                                          feats(encoder, real_set, real_tf).cpu())
    if set(cfg.metrics) & {"fid", "is", "pr"}:
        net = gen.Inception(str(cfg.inception_weights), ctx.device)
        encode = lambda x: torch.cat(net(x), dim=1)
        fake = feats(encode, fake_set, lambda x: x).cpu()
        f_pool, f_logits = fake[:, :2048], fake[:, 2048:]
        need_real = "pr" in cfg.metrics or ("fid" in cfg.metrics and cfg.fid_stats is None)
        real = feats(encode, real_set, lambda x: gen.to_uint8(real_tf(x)))[:, :2048].cpu() if need_real else None
        if "fid" in cfg.metrics:
            ref = gen.load_stats(cfg.fid_stats) if cfg.fid_stats else gen.gaussian_stats(real)
            result["fid"] = gen.frechet_distance(*gen.gaussian_stats(f_pool), *ref)
        if "is" in cfg.metrics:
            result["inception_score"], result["inception_score_std"] = gen.inception_score(f_logits)
        if "pr" in cfg.metrics:
            result["precision"], result["recall"] = gen.precision_recall(f_pool, real)
    skips.report()
    result["skipped"] = skips.skipped
    if ctx.is_main:
        out = Path(cfg.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "eval.json.tmp"
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(out / "eval.json")
    log.info(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))
    return result


if __name__ == "__main__":  # python -m vis.rcg.evaluate (torchrun)
    from vis.rcg import cli

    cli.evaluate.cli()
