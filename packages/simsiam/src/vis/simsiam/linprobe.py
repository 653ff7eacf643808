"""simsiam-linprobe: linear classification on a frozen SimSiam ResNet (Chen & He, 2021, section 4 and the
official main_lincls.py).

The pooled backbone features feed a linear classifier initialised N(0, 0.01) with a zero bias; the
backbone stays in eval mode, so neither its weights nor its BatchNorm statistics move, and every backbone
tensor is checked unchanged at the end. SGD with momentum 0.9 under apex LARC semantics (every parameter
adapted with trust 0.001, the zero-initialised bias first takes a full-lr step), lr 0.1 x batch / 256, no
weight decay, per-epoch cosine, torchvision random resized crops.
"""

from __future__ import annotations

from typing import Any

from vis.core.eval.config import LinearProbeConfig
from vis.core.eval.linear_probe import linear_probe
from vis.simsiam.convert import load_backbone


def main(cfg: LinearProbeConfig) -> dict[str, Any]:
    return linear_probe(cfg, load_backbone)


if __name__ == "__main__":  # python -m vis.simsiam.linprobe (torchrun)
    from vis.simsiam import cli

    cli.linprobe.cli()
