"""mocov3-export: write the pre-trained backbone of a MoCo v3 checkpoint as a plain backbone file.

The query branch's backbone (`base_encoder`) is what MoCo v3 hands to downstream tasks (linear probing,
fine-tuning, detection; RCG also keeps the projector). The input is a vis mocov3-pretrain checkpoint (its
saved config says how the backbone was built) or an official pre-training file (its `arch` field:
vit_small, vit_base, vit_conv_small, vit_conv_base, resnet50). The output is a vis-backbone/1 file: the
backbone's timm / torchvision keys, `arch` = {"kind": "vit" | "resnet", "kwargs": constructor arguments of
vis.core's VisionTransformer / resnet}, and the source file. An existing output is kept unless --force.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from vis.core.config import ResNetOptions
from vis.core.convert import check_fits, model_state, read_checkpoint, save_backbone
from vis.core.errors import UserError
from vis.core.models.backbone import build_from_arch, resnet_arch
from vis.mocov3.config import OFFICIAL_ARCHS, OFFICIAL_VITS, ExportConfig
from vis.mocov3.convert import backbone_weights

log = logging.getLogger("vis")


def backbone_arch(state: dict[str, Any], source: str) -> dict[str, Any]:
    """How to rebuild the backbone of a vis or an official checkpoint (the arch dict of the output)."""
    if "config" in state:  # vis: the run's own options
        c = state["config"]
        if c.get("arch") == "resnet":
            return resnet_arch(ResNetOptions(**c["resnet"]))
        if "temperature" not in c or "vit" not in c:
            raise UserError("not a mocov3-pretrain checkpoint", source, "export the checkpoint of a MoCo v3 run")
        vit, conv, img = c["vit"], c["conv_stem"], c["input_size"]
    elif state.get("arch") in OFFICIAL_VITS:
        opts, conv = OFFICIAL_VITS[state["arch"]]
        vit, img = vars(opts), 224
    elif state.get("arch") == "resnet50":
        return resnet_arch(ResNetOptions(50, 64, False))
    else:
        raise UserError(f"unknown MoCo v3 arch {state.get('arch')!r}", source,
                        f"expected one of {', '.join(OFFICIAL_ARCHS)} or a vis mocov3-pretrain checkpoint")
    return {"kind": "vit", "kwargs": {"img_size": img, **vit, "conv_stem": conv, "pos_embed": "sincos",
                                      "sincos_order": "mocov3", "num_classes": 0}}


def _index(key: str, head: str) -> int:
    part = key[len(head):].split(".")[0]
    return int(part) if part.isdigit() else -1


def main(cfg: ExportConfig) -> dict[str, Any]:
    from vis.core.logger import setup_console

    setup_console(0)
    src = str(cfg.checkpoint)
    state = read_checkpoint(src)
    weights = backbone_weights(model_state(state, src), src)
    arch = backbone_arch(state, src)
    head = "fc." if arch["kind"] == "resnet" else "head."
    if cfg.keep_projector:  # mlp_head(dims) rebuilds it (Linear without bias, BN, ReLU, ..., BN w/o affine)
        linears = [v for k, v in sorted(weights.items(), key=lambda kv: _index(kv[0], head))
                   if k.startswith(head) and v.ndim == 2]
        if not linears:
            raise UserError("the checkpoint has no projector", src, "export without --keep-projector")
        arch["projector"] = {"dims": [linears[0].shape[1], *(w.shape[0] for w in linears)], "last_bn": True}
    else:
        weights = {k: v for k, v in weights.items() if not k.startswith(head)}
    with torch.device("meta"):  # the file must rebuild the backbone it names: checked before writing anything
        check_fits(build_from_arch(arch), weights, src)
    path = save_backbone(cfg.output, weights, arch, source=src)
    log.info(f"wrote {path}: {arch['kind']} backbone, {len(weights)} tensors"
             f"{' with the projector' if cfg.keep_projector else ''} (from {src})")
    return {"output": str(path), "arch": arch, "keys": len(weights)}


if __name__ == "__main__":  # python -m vis.mocov3.export
    from vis.mocov3 import cli

    cli.export.cli()
