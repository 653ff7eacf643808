"""rho-finetune: end-to-end fine-tuning of a pre-trained video backbone on a downstream action dataset
(UCF101 / HMDB51 style, section 4: dropout 0.8 before the classifier, SGD, wd 0).

Every layer trains, from the pre-trained backbone (or random initialisation for the baseline), on one random
clip per video; testing averages the softmax of temporal x spatial views per video.
"""

from __future__ import annotations

from typing import Any

from vis.rho.classify import train_classifier
from vis.rho.config import ClassifyConfig


def main(cfg: ClassifyConfig) -> dict[str, Any]:
    return train_classifier(cfg, linear=False)


if __name__ == "__main__":  # python -m vis.rho.finetune (torchrun)
    from vis.rho import cli

    cli.finetune.cli()
