"""The digits-classifier check: a logistic regression on real 8 x 8 digits judges generated ones."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vis.core.data.skips import read_batch
from vis.core.data.specs import parse_data_spec
from vis.rcg.stages import eval_pipeline


def digits(split: str, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """Images in [0, 1] at `size` and labels of a digits split."""
    data = parse_data_spec("digits").dataset(split)
    x, y, _, _ = read_batch(data, range(len(data)), eval_pipeline(size))
    return x, y.numpy()


def classifier(size: int):
    """(fitted logistic regression on the train split's grey 8 x 8 images, its accuracy on the val split)."""
    from sklearn.linear_model import LogisticRegression

    xt, yt = digits("train", size)
    xv, yv = digits("val", size)
    clf = LogisticRegression(max_iter=2000).fit(features(xt), yt)
    return clf, float((clf.predict(features(xv)) == yv).mean())


def features(images: torch.Tensor) -> np.ndarray:
    return F.interpolate(images.mean(1, keepdim=True), size=(8, 8), mode="area").flatten(1).numpy()
