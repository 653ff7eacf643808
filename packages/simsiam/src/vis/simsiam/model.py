"""SimSiam (Chen & He, 2021): a ResNet whose `fc` is a 3-layer projection MLP, a 2-layer prediction MLP, and
the symmetrised negative cosine between each view's prediction and the other view's (stopped) projection.
Attribute names follow the official `builder.py`, so its checkpoints load key for key."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vis.core.losses import negative_cosine
from vis.core.models.backbone import replace_head
from vis.core.models.heads import mlp_head
from vis.core.models.resnet import resnet


class SimSiam(nn.Module):
    """encoder = ResNet (zero-init residuals) with fc = Linear-BN-ReLU-Linear-BN-ReLU-Linear(frozen bias)-BN
    (no affine), all of the backbone's feature width F except the output `dim`; predictor = Linear(dim,
    pred_dim)-BN-ReLU-Linear(pred_dim, dim) with bias."""

    def __init__(self, depth: int = 50, width: int = 64, small_input: bool = False, dim: int = 2048,
                 pred_dim: int = 512, stop_gradient: bool = True):
        super().__init__()
        self.encoder = resnet(depth, width, num_classes=0, zero_init_residual=True, small_input=small_input)
        feat = self.encoder.num_features
        # the official hidden width is the feature width; the last Linear is torchvision's re-used fc, whose
        # bias is kept but never trained (a BN without affine follows, so it is harmless)
        replace_head(self.encoder, mlp_head([feat, feat, feat, dim], last_bn=True, last_bias="frozen"))
        self.predictor = mlp_head([dim, pred_dim, dim], last_bn=False, last_bias="trainable")
        self.dim = dim
        self.stop_gradient = stop_gradient

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features before the projector, [N, F] (what is kept after pre-training)."""
        return self.encoder.features(x)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor):
        """(p1, p2, z1, z2); each view is its own pass, so BatchNorm statistics are per view as in the
        official code. z is detached when stop_gradient is on."""
        z1, z2 = self.encoder(x1), self.encoder(x2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        if self.stop_gradient:
            z1, z2 = z1.detach(), z2.detach()
        return p1, p2, z1, z2


def simsiam_loss(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """L = 1/2 D(p1, z2) + 1/2 D(p2, z1), D the negative cosine; minimum -1."""
    return 0.5 * (negative_cosine(p1, z2) + negative_cosine(p2, z1))


def output_std(z: torch.Tensor) -> torch.Tensor:
    """The collapse monitor of the paper's Figure 2: the per-channel std of L2-normalised outputs averaged
    over channels; about 1/sqrt(d) for well-spread outputs, 0 for a collapsed (constant) output."""
    return F.normalize(z.detach().float(), dim=1).std(dim=0).mean()


def objective(outputs: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
    """The Trainer's record for one step: the loss and the collapse monitor of view 1's projection."""
    p1, p2, z1, z2 = outputs
    return {"loss": simsiam_loss(p1, p2, z1, z2), "z_std": output_std(z1)}
