"""mae-linprobe: linear probing of a frozen MAE encoder (He et al., 2022, appendix A.3).

The cls token after the final norm feeds BatchNorm (no affine) and a linear classifier trained with LARS
on TF-style random resized crops; every encoder weight and buffer is checked unchanged at the end.
"""

from __future__ import annotations

from typing import Any

from vis.core.convert import load_vit_from_mae
from vis.core.eval.config import LinearProbeConfig
from vis.core.eval.linear_probe import linear_probe


def main(cfg: LinearProbeConfig) -> dict[str, Any]:
    return linear_probe(cfg, load_vit_from_mae)


if __name__ == "__main__":  # python -m vis.mae.linprobe (torchrun)
    from vis.mae import cli

    cli.linprobe.cli()
