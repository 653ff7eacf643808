"""mae-finetune: end-to-end fine-tuning of an MAE encoder (He et al., 2022, section 4 and appendix A.2).

The decoder is discarded; the pre-trained encoder (vis or official checkpoint, --finetune FILE) gets a
fresh head on the average of its patch tokens and is trained with the DeiT recipe: layer-wise lr decay,
drop path, RandAugment, mixup / cutmix, label smoothing and random erasing. Top-1 / top-5 on the val split
every epoch; the best epoch is kept as checkpoints/best.pt.
"""

from __future__ import annotations

from typing import Any

from vis.core.convert import load_vit_from_mae
from vis.core.eval.config import FinetuneConfig
from vis.core.eval.finetune import finetune


def main(cfg: FinetuneConfig) -> dict[str, Any]:
    return finetune(cfg, load_vit_from_mae)


if __name__ == "__main__":  # python -m vis.mae.finetune (torchrun)
    from vis.mae import cli

    cli.finetune.cli()
