"""rho-linprobe: linear classification on frozen video features (the paper's Kinetics-400 protocol, section 4).

The pre-trained backbone (a vis rho-pretrain checkpoint or a released SlowFast contrastive file; projection,
predictor, momentum copy, queue and prototypes dropped) stays frozen; a linear classifier on its globally
pooled res5 features is trained on one random clip per video (crop and flip) with SGD and a cosine schedule.
The backbone's BN statistics stay frozen by default (--bn-stats train re-estimates them, as the shipped
config does). Testing averages the softmax of temporal x spatial views per video (10 x 3 in the paper).
"""

from __future__ import annotations

from typing import Any

from vis.rho.classify import train_classifier
from vis.rho.config import ClassifyConfig


def main(cfg: ClassifyConfig) -> dict[str, Any]:
    return train_classifier(cfg, linear=True)


if __name__ == "__main__":  # python -m vis.rho.linprobe (torchrun)
    from vis.rho import cli

    cli.linprobe.cli()
