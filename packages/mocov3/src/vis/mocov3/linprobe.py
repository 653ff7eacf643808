"""mocov3-linprobe: linear classification on a frozen MoCo v3 backbone (Chen, Xie and He, 2021, section 4).

The pre-trained backbone (a vis checkpoint, an official pre-training file or an exported backbone; the
projector is dropped) stays frozen and in eval mode; only a linear classifier on its features (the ViT's
cls token after the final norm, or the ResNet's pooled last stage) is trained, with SGD, a per-epoch cosine
and no weight decay. At the end every backbone tensor, BN statistics included, is checked unchanged (the
official `sanity_check`).
"""

from __future__ import annotations

from typing import Any

from vis.core.eval.config import LinearProbeConfig
from vis.core.eval.linear_probe import linear_probe
from vis.mocov3.convert import load_backbone


def main(cfg: LinearProbeConfig) -> dict[str, Any]:
    return linear_probe(cfg, load_backbone)


if __name__ == "__main__":  # python -m vis.mocov3.linprobe (torchrun)
    from vis.mocov3 import cli

    cli.linprobe.cli()
