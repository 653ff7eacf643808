"""flip-zeroshot: zero-shot classification with a FLIP (or open_clip CLIP) checkpoint, CLIP's protocol.

Every class name is written into every prompt template (CLIP's 7 ImageNet templates by default), the
prompts are encoded by the text tower, and the normalised mean per class becomes its classifier weight;
each image, encoded whole (no masking at evaluation), takes the class of highest cosine similarity.
Top-1 / top-5 are written to <output-dir>/zeroshot.json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torchvision.transforms import v2

from vis.core.data.imagetext import scene_templates
from vis.core.data.imagetext_spec import ImageTextSpec, parse_labelled_spec
from vis.core.data.skips import SkipCount
from vis.core.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from vis.core.dist import DistContext
from vis.core.eval.zeroshot import CLIP_TEMPLATES, read_lines, zero_shot_accuracy, zero_shot_weights
from vis.core.logger import append_jsonl, format_line

log = logging.getLogger("vis")
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def eval_transform(size: int, normalize: str = "imagenet") -> v2.Compose:
    """Resize the short side to `size` (bicubic), centre crop, normalise (ImageNet's or CLIP's statistics)."""
    mean, std = (CLIP_MEAN, CLIP_STD) if normalize == "clip" else (IMAGENET_MEAN, IMAGENET_STD)
    return v2.Compose([v2.Resize(size, interpolation=v2.InterpolationMode.BICUBIC, antialias=True),
                       v2.CenterCrop(size), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


def prompts(spec: ImageTextSpec, dataset, classnames: str | None, templates: str | None) -> tuple[list, list]:
    """(class names in label order, templates): from the files when given, else the dataset's classes
    ('_' read as a space) and CLIP's 7 templates (the scenes: every caption with the attribute left out)."""
    names = read_lines(classnames, "class-names") if classnames else [c.replace("_", " ") for c in dataset.classes]
    if len(names) != len(dataset.classes):
        from vis.core.errors import UserError

        raise UserError(f"{len(names)} class names for {len(dataset.classes)} classes", str(classnames),
                        "give one name per class, in label order")
    if templates:
        return names, read_lines(templates, "templates", need="{}")
    return names, scene_templates(spec.path) if spec.kind == "scenes" else list(CLIP_TEMPLATES)


@torch.no_grad()
def evaluate(model, tokenizer, spec: ImageTextSpec, transform, batch_size: int, ctx: DistContext, skips: SkipCount,
             classnames: str | None = None, templates: str | None = None) -> dict[str, float]:
    """Zero-shot top-1 / top-5 / loss of `model` (its eval mode: whole images) on a labelled spec."""
    dataset = spec.labelled(read_lines(classnames, "class-names") if classnames and spec.kind == "csv" else None)
    names, temps = prompts(spec, dataset, classnames, templates)
    was_training = model.training
    model.eval()
    weights = zero_shot_weights(model.encode_text, tokenizer, names, temps, ctx.device)
    result = zero_shot_accuracy(model.visual, weights, dataset, transform, batch_size, ctx, skips)
    model.train(was_training)
    return result


class ZeroShotMonitor:
    """Zero-shot accuracy during flip-pretrain (`evaluate`, the Task's hook: every --zeroshot-every epochs
    and after the last), and at the end the same for a freshly initialised model (`summary`): the baseline
    the learned model is measured against."""

    def __init__(self, cfg, ctx: DistContext, tokenizer):
        self.cfg, self.ctx, self.tokenizer = cfg, ctx, tokenizer
        self.spec = parse_labelled_spec(cfg.zeroshot_data)
        self.transform = eval_transform(cfg.input_size)

    def accuracy(self, model: torch.nn.Module) -> float:
        skips = SkipCount(self.cfg.max_skipped_fraction, self.cfg.zeroshot_data, "zero-shot evaluation")
        return evaluate(model, self.tokenizer, self.spec, self.transform, 256, self.ctx, skips)["top1"]

    def evaluate(self, epoch: int, model: torch.nn.Module) -> dict[str, float]:
        every = self.cfg.zeroshot_every
        if epoch != self.cfg.epochs - 1 and not (every and (epoch + 1) % every == 0):
            return {}
        return {"zeroshot_top1": self.accuracy(model)}

    def summary(self, result: dict[str, Any], step: int, out_dir: Path,
                build_random: Callable[[], torch.nn.Module]) -> dict[str, Any]:
        torch.manual_seed(self.cfg.seed)
        baseline = self.accuracy(build_random().to(self.ctx.device))
        summary = {"step": step, "zeroshot_top1": result.get("zeroshot_top1"), "zeroshot_top1_random_init": baseline}
        if self.ctx.is_main:
            append_jsonl(Path(out_dir) / "log.jsonl", summary)
        log.info(format_line(summary))
        return {**result, **summary}


def main(cfg) -> dict[str, Any]:
    from vis.core.dist import start_run
    from vis.flip.convert import load_model
    from vis.flip.tokenizer import build_tokenizer

    ctx = start_run(cfg.device, cfg.seed)
    model, feed = load_model(str(cfg.checkpoint))
    model.to(ctx.device)
    tokenizer = build_tokenizer(feed["tokenizer"], feed["context_length"], feed["vocab_size"])
    spec = parse_labelled_spec(cfg.data)
    skips = SkipCount(cfg.max_skipped_fraction, cfg.data, "zero-shot evaluation")
    result = evaluate(model, tokenizer, spec, eval_transform(feed["input_size"], feed["normalize"]), cfg.batch_size,
                      ctx, skips, cfg.classnames, cfg.templates)
    result = {**result, "checkpoint": str(cfg.checkpoint), "data": cfg.data, "skipped": skips.skipped}
    log.info(format_line(result))
    if ctx.is_main:
        out = Path(cfg.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "zeroshot.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":  # python -m vis.flip.zeroshot
    from vis.flip import cli

    cli.zeroshot.cli()
