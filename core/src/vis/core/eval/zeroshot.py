"""Zero-shot classification with a language-image model (CLIP's protocol, used by FLIP): each class name is
written into every prompt template, the prompts are encoded by the text tower and L2-normalised, their mean
per class is renormalised into a classifier weight, and an image is assigned the class of highest cosine
similarity. Class names and templates are plain text files (one per line, templates with "{}")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.data.skips import SkipCount
from vis.core.dist import DistContext
from vis.core.errors import UserError
from vis.core.eval.classification import evaluate_classifier

CLIP_TEMPLATES = (
    "itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.", "a {} in a video game.",
    "art of the {}.", "a photo of the small {}.",
)
"""CLIP's 7 recommended ImageNet templates (what FLIP reports with)."""


def read_lines(path: str | Path, what: str, need: str = "") -> list[str]:
    """The non-empty lines of a text file; a missing or empty file, or a line without `need`, is a one-line
    UserError naming the file."""
    try:
        lines = [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read the {what} file ({type(e).__name__})", str(path), "give a UTF-8 text file, "
                        "one entry per line") from None
    if not lines:
        raise UserError(f"the {what} file is empty", str(path), "give one entry per line")
    bad = [ln for ln in lines if need not in ln]
    if bad:
        raise UserError(f"a {what} line lacks '{need}': {bad[0]!r}", str(path), f"write '{need}' where the class "
                        "name goes")
    return lines


@torch.no_grad()
def zero_shot_weights(encode_text: Callable[[torch.Tensor], torch.Tensor],
                      tokenize: Callable[[list[str]], torch.Tensor], classnames: Sequence[str],
                      templates: Sequence[str], device: torch.device, batch_size: int = 1024) -> torch.Tensor:
    """Classifier weights [C, E]: per class, the renormalised mean of its normalised prompt embeddings."""
    prompts = [t.format(c) for c in classnames for t in templates]
    feats = []
    for s in range(0, len(prompts), batch_size):
        feats.append(F.normalize(encode_text(tokenize(prompts[s : s + batch_size]).to(device)).float(), dim=-1))
    per_class = torch.cat(feats).view(len(classnames), len(templates), -1).mean(dim=1)
    return F.normalize(per_class, dim=-1)


class ZeroShotClassifier(nn.Module):
    """Image encoder + fixed class weights: logits = 100 * cos(image, class) (the scale does not change the
    ranking; it makes the logged cross-entropy comparable with CLIP's)."""

    def __init__(self, encode_image: nn.Module, weights: torch.Tensor):
        super().__init__()
        self.encode_image = encode_image
        self.register_buffer("weights", weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 100.0 * F.normalize(self.encode_image(x).float(), dim=-1) @ self.weights.T


def zero_shot_accuracy(encode_image: nn.Module, weights: torch.Tensor, dataset: torch.utils.data.Dataset,
                       transform: Callable, batch_size: int, ctx: DistContext, skips: SkipCount) -> dict[str, float]:
    """{"top1", "top5", "loss"} (accuracies in percent) of the zero-shot classifier on a raw (image, label)
    dataset whose labels index `weights`; every rank evaluates its share, unreadable samples are named and
    counted in `skips`."""
    return evaluate_classifier(ZeroShotClassifier(encode_image, weights), dataset, transform, batch_size, ctx, skips)
