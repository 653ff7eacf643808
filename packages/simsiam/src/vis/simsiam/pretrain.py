"""simsiam-pretrain: Siamese pre-training with a predictor and a stop-gradient (Chen & He, 2021, section 3).

Two random augmentations of an image go through the same encoder f (a ResNet and a 3-layer projection MLP)
to give z1, z2; a 2-layer prediction MLP h maps each to p1, p2. The loss is the symmetrised negative cosine
1/2 D(p1, stopgrad(z2)) + 1/2 D(p2, stopgrad(z1)): no negative pairs, no momentum encoder, no large batch.
The stop-gradient is what keeps the outputs from collapsing to a constant; the std of the L2-normalised z
(the collapse monitor, logged as z_std) stays near 1/sqrt(d) while it works and falls to 0 when it does not.
SGD with momentum 0.9, weight decay on every parameter, lr = blr x batch / 256 with a per-epoch cosine and
no warm-up, optionally a fixed lr for the predictor.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch

from vis.core.convert import save_backbone
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.transforms import center_crop
from vis.core.data.views import mocov2_views
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.knn import KnnMonitor
from vis.core.models.backbone import resnet_arch
from vis.core.optim import uniform_groups
from vis.simsiam.config import PretrainConfig
from vis.simsiam.model import SimSiam, objective

log = logging.getLogger("vis")


def build_model(cfg: PretrainConfig) -> SimSiam:
    r = cfg.resnet
    return SimSiam(r.resnet_depth, r.resnet_width, r.small_input_stem, cfg.dim, cfg.pred_dim, cfg.stop_gradient)


def encode_backbone(model: SimSiam):
    """Frozen features for the kNN monitor: the pooled ResNet output (before the projector), in eval mode."""
    def encode(x: torch.Tensor) -> torch.Tensor:
        model.eval()
        return model.features(x)
    return encode


class CollapseWatch:
    """Keeps the newest z_std as a tensor (no host sync per step) and warns at an epoch end when it is below
    0.2 / sqrt(d): the outputs are collapsing (reference pitfall 2: retune the lr or the augmentations)."""

    def __init__(self, dim: int, enabled: bool):
        self.threshold, self.enabled, self.last = 0.2 / math.sqrt(dim), enabled, None

    def __call__(self, record: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.last = record["z_std"]
        return record

    def check(self, epoch: int) -> None:
        if self.enabled and self.last is not None and (std := self.last.item()) < self.threshold:
            log.warning(f"collapse warning at epoch {epoch}: z_std {std:.4f} < 0.2/sqrt(d) = {self.threshold:.4f}; "
                        "the outputs are becoming constant (lower the lr or change the augmentations)")


def main(cfg: PretrainConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train = SeededDataset(spec.dataset("train"), mocov2_views(cfg.input_size, cfg.crop_min_scale), cfg.seed)
    model = build_model(cfg)
    watch = CollapseWatch(cfg.dim, ctx.is_main)
    knn = KnnMonitor(encode_backbone, spec, center_crop(cfg.input_size), cfg, ctx)

    def evaluate(epoch: int, full_model: SimSiam) -> dict[str, float]:
        watch.check(epoch)
        return knn.evaluate(epoch, full_model)

    task = Task(
        model=model, train_data=train,
        forward=lambda m, b: watch(objective(m(b["image"][:, 0], b["image"][:, 1]))),
        param_groups=lambda m: uniform_groups(m, cfg.weight_decay, fixed_lr=("predictor",) if cfg.fix_pred_lr else ()),
        optimizer="sgd", lr_schedule="epoch", evaluate=evaluate,
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if trainer.stopped or trainer.epoch < cfg.epochs:
        return result
    if ctx.is_main:
        backbone = {k: v for k, v in model.encoder.state_dict().items() if not k.startswith("fc.")}
        path = save_backbone(trainer.out / "backbone.pt", backbone, resnet_arch(cfg.resnet),
                             f"simsiam-pretrain {trainer.out}")
        log.info(f"backbone (torchvision ResNet names, no fc): {path}")
    return knn.summary(result, trainer.step, trainer.out, lambda: build_model(cfg))


if __name__ == "__main__":  # python -m vis.simsiam.pretrain (torchrun)
    from vis.simsiam import cli

    cli.pretrain.cli()
