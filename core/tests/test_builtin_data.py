"""Built-in digits: the cached arrays are scikit-learn's own, with the same stratified split."""

import numpy as np
import pytest

from vis.core.data import builtin


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builtin._digits_arrays.cache_clear()
    yield tmp_path
    builtin._digits_arrays.cache_clear()


def test_digits_cache_holds_scikit_learns_arrays_and_split(fresh_cache):
    from sklearn.datasets import load_digits

    first = builtin._digits_source()  # computed from scikit-learn, then written
    assert builtin._digits_cache().is_file() and builtin._digits_cache().is_relative_to(fresh_cache)
    second = builtin._digits_source()  # read back from the file
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a, b)
    d = load_digits()
    assert np.array_equal(second[0], d.images) and np.array_equal(second[1], d.target)
    train, val = second[2], second[3]
    assert len(train) == 1437 and len(val) == 360 and not set(train) & set(val)
    assert np.bincount(d.target[val]).min() >= 35  # stratified: every digit about 36 times in val
    assert len(builtin.DigitsImages("train")) == 1437


def test_unwritable_cache_still_loads(fresh_cache, monkeypatch):
    blocker = fresh_cache / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made, even as root
    assert len(builtin._digits_source()[2]) == 1437
    assert not list(fresh_cache.rglob("*.npz"))
