import pytest

from vis.core.testing import one_torch_thread, small_shapes


@pytest.fixture(scope="session")
def shapes_root(tmp_path_factory):
    return small_shapes(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    """The same 32 train images with 24 val images: the tiny test's AP is less noisy than on 8."""
    return small_shapes(tmp_path_factory.mktemp("shapes24"), val=24)


@pytest.fixture(autouse=True)
def one_thread():
    with one_torch_thread():
        yield


@pytest.fixture
def fast_args(shapes_root) -> list[str]:
    """The tiny recipe on the small dataset: batch 2, 16 steps per epoch, every step logged."""
    return ["--recipe", "tiny", "--data", f"coco:{shapes_root}", "--batch-size", "2", "--epochs", "1",
            "--num-workers", "0", "--log-every", "1", "--rois-per-image", "32", "--warmup-epochs", "0.1"]
