"""mae-finetune: end-to-end fine-tuning of an MAE encoder (He et al., 2022, section 4 and appendix A.2).

The decoder is discarded; the pre-trained encoder (vis or official checkpoint, --finetune FILE) gets a
fresh head on the average of its patch tokens and is trained with the DeiT recipe: layer-wise lr decay,
drop path, RandAugment, mixup / cutmix, label smoothing and random erasing. Top-1 / top-5 on the val split
every epoch; the best epoch is kept as checkpoints/best.pt.
"""

from __future__ import annotations

from typing import Any

from vis.core.cli import EntryPoint
from vis.core.convert import load_vit_from_mae
from vis.core.eval.finetune import FinetuneConfig, finetune
from vis.mae.recipes import FINETUNE_RECIPES


def main(cfg: FinetuneConfig) -> dict[str, Any]:
    return finetune(cfg, load_vit_from_mae)


entry = EntryPoint(FinetuneConfig, FINETUNE_RECIPES, main, prog="mae-finetune", description=__doc__)
run, cli = entry.run, entry.cli


if __name__ == "__main__":
    cli()
