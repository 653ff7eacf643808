"""Evaluation of generative models (vis-core[generative]): the Frechet distance of two Gaussians (FID on
Inception features, or on any encoder's features, e.g. RCG's representation FD), Inception score and
precision / recall through torch-fidelity's InceptionV3, read from a local weights file (nothing is downloaded
at run time), and batched generation sharded over ranks with a progress bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vis.core.dist import all_gather_nograd, rank, world_size
from vis.core.errors import UserError
from vis.core.logger import progress

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance with N - 1) of features [N, D], in float64."""
    f = features.double()
    return f.mean(0), torch.cov(f.T)


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)). tr (S1 S2)^(1/2) is the sum of the square roots of the
    eigenvalues of S1 S2 (real and >= 0 up to rounding for covariances), in float64: no matrix square root,
    which is slow and can fail on near-singular covariances of few samples."""
    mu1, mu2, s1, s2 = (torch.as_tensor(a, dtype=torch.float64) for a in (mu1, mu2, sigma1, sigma2))
    eig = torch.linalg.eigvals(s1 @ s2)
    tr_covmean = eig.sqrt().real.sum()
    diff = mu1 - mu2
    return float(diff @ diff + s1.trace() + s2.trace() - 2 * tr_covmean)


def feature_fd(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets [N, D], [M, D]."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))


def load_stats(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, sigma) of a reference .npz (ADM's VIRTUAL_imagenet256_labeled.npz, torch-fidelity / pytorch-fid
    files: keys mu and sigma)."""
    try:
        with np.load(path) as f:
            return torch.from_numpy(f["mu"]).double(), torch.from_numpy(f["sigma"]).double()
    except (OSError, KeyError, ValueError) as e:
        raise UserError("not a statistics file with mu and sigma", str(path), str(e).splitlines()[0]) from None


class Inception:
    """torch-fidelity's InceptionV3 (TF-compatible resize and weights): 2048-d pool features for FID and
    precision / recall, 1008 unbiased logits for the Inception score. Input: uint8 images [N, 3, H, W]."""

    def __init__(self, weights: str | Path, device: torch.device | str = "cpu"):
        if not Path(weights).is_file():
            raise UserError(f"Inception weights not found (need {INCEPTION_FILE})", str(weights),
                            "download it from torch-fidelity's v0.2.0 release and pass its path")
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                               feature_extractor_weights_path=str(weights)).to(device)
        self.device = device

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool, logits = self.net(images.to(self.device))
        return pool.float(), logits.float()


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[0, 1] floats -> uint8 as a PNG would store them (round half up)."""
    return (images.clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def inception_score(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """torch-fidelity's Inception score (mean, std over `splits`) of unbiased logits."""
    from torch_fidelity.metric_isc import isc_features_to_metric

    out = isc_features_to_metric(logits.cpu(), splits=min(splits, len(logits)))
    return out["inception_score_mean"], out["inception_score_std"]


def precision_recall(fake: torch.Tensor, real: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al., k-NN balls of k = 3) through torch-fidelity."""
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    return calculate_precision_recall_full(fake.cpu(), real.cpu(), k)


def generate_sharded(make: Callable[[torch.Tensor], torch.Tensor], n: int, batch_size: int, desc: str,
                     gather: bool = True) -> torch.Tensor:
    """Sample i (of n) is `make(indices)[j]` for its global index: each rank makes its share (indices rank,
    rank + world, ...) in batches under a progress bar; with `gather`, every rank gets all n in index order
    (else its own share). Results do not depend on the world size when `make` seeds each sample by index."""
    world, me = world_size(), rank()
    per_rank = -(-n // world)
    mine = [min(i, n - 1) for i in range(me, per_rank * world, world)]  # padded to equal shares
    bar, parts = progress(len(mine), desc, me == 0), []
    for s in range(0, len(mine), batch_size):
        idx = torch.tensor(mine[s : s + batch_size])
        parts.append(make(idx))
        if bar:
            bar.update(len(idx))
    if bar:
        bar.close()
    out = torch.cat(parts)
    if not gather:
        return out
    full = all_gather_nograd(out)  # rank-major: rank r's j-th item is global index r + j * world
    order = torch.tensor([r + j * world for r in range(world) for j in range(per_rank)])
    return full[torch.argsort(order.to(full.device))][:n]
