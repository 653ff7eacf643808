"""vis-core[generative]: the Frechet distance against scipy and torch-fidelity, Inception read from a local
file only, and sharded generation."""

import numpy as np
import pytest
import scipy.linalg
import torch

from vis.core.errors import UserError
from vis.core.eval import generative as gen


def scipy_fd(mu1, s1, mu2, s2) -> float:
    """The reference formula (pytorch-fid / ADM): matrix square root by scipy.linalg.sqrtm."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("dim,n", [(8, 200), (32, 100), (64, 40)])  # the last: singular covariances (n < dim)
def test_frechet_distance_matches_scipy(dim, n):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim))
    b = rng.normal(loc=0.3, size=(n, dim)) @ rng.normal(size=(dim, dim))
    (mu1, s1), (mu2, s2) = (gen.gaussian_stats(torch.from_numpy(x)) for x in (a, b))
    ours = gen.frechet_distance(mu1, s1, mu2, s2)
    ref = scipy_fd(np.mean(a, 0), np.cov(a, rowvar=False), np.mean(b, 0), np.cov(b, rowvar=False))
    assert ours == pytest.approx(ref, rel=1e-6, abs=1e-6)


def test_frechet_distance_matches_torch_fidelity_and_basic_cases():
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    rng = np.random.default_rng(0)
    a, b = torch.from_numpy(rng.normal(size=(300, 16))), torch.from_numpy(rng.normal(size=(300, 16)) * 1.5)
    ref = fid_statistics_to_metric(fid_features_to_statistics(a), fid_features_to_statistics(b), False)
    assert gen.feature_fd(a, b) == pytest.approx(ref["frechet_inception_distance"], rel=1e-9)
    mu, s = gen.gaussian_stats(a)
    assert gen.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    shift = torch.full((16,), 0.5, dtype=torch.float64)
    assert gen.frechet_distance(mu, s, mu + shift, s) == pytest.approx(16 * 0.25, abs=1e-8)


def test_statistics_file_round_trip_and_bad_file(tmp_path):
    mu, sigma = np.arange(3.0), np.eye(3)
    np.savez(tmp_path / "ref.npz", mu=mu, sigma=sigma)
    m, s = gen.load_stats(tmp_path / "ref.npz")
    assert torch.equal(m, torch.from_numpy(mu)) and torch.equal(s, torch.from_numpy(sigma))
    np.savez(tmp_path / "bad.npz", other=mu)
    with pytest.raises(UserError, match="mu and sigma"):
        gen.load_stats(tmp_path / "bad.npz")


def test_missing_inception_weights_name_the_file(tmp_path):
    with pytest.raises(UserError) as e:
        gen.Inception(tmp_path / "nope.pth")
    assert gen.INCEPTION_FILE in str(e.value) and "nope.pth" in str(e.value)
    assert "\n" not in str(e.value)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    """torch-fidelity's InceptionV3 with random weights saved as a local file (the real one cannot be
    downloaded here); the loading path is the one a real file takes."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    path = tmp_path_factory.mktemp("inception") / gen.INCEPTION_FILE
    with pytest.MonkeyPatch.context() as mp:  # no download, no weights: a random network
        mp.setattr(fe, "load_state_dict_from_url", lambda *a, **k: {})
        mp.setattr(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd: None)
        torch.manual_seed(0)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


def test_inception_features_score_and_precision_recall(inception_file):
    net = gen.Inception(inception_file)
    images = gen.to_uint8(torch.rand(10, 3, 32, 32))
    pool, logits = net(images)
    assert pool.shape == (10, 2048) and logits.shape == (10, 1008)
    score, _ = gen.inception_score(logits, splits=2)
    assert 1.0 <= score <= 1008
    precision, recall = gen.precision_recall(pool[:5], pool[5:])
    assert 0 <= precision <= 1 and 0 <= recall <= 1
    assert gen.precision_recall(pool, pool) == (1.0, 1.0)


def test_sharded_generation_keeps_index_order_whatever_the_batch():
    make = lambda idx: idx.float()[:, None] * 2
    for batch in (1, 3, 10):
        out = gen.generate_sharded(make, 7, batch, "test")
        assert out[:, 0].tolist() == [2.0 * i for i in range(7)]
