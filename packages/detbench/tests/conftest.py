import pytest
import torch

from vis.core.data.shapes_coco import write_split


@pytest.fixture(scope="session")
def shapes_root(tmp_path_factory):
    """A small synthetic COCO-format dataset (32 train / 8 val images of 128 px) read as coco:ROOT."""
    root = tmp_path_factory.mktemp("shapes")
    write_split(root, "train", 32, 128, seed=0)
    write_split(root, "val", 8, 128, seed=1)
    return root


@pytest.fixture(autouse=True)
def one_thread():
    """Detection steps are many small ops: one intra-op thread is faster on the loaded 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def fast_args(shapes_root) -> list[str]:
    """The tiny recipe on the small dataset: batch 2, every step logged."""
    return ["--recipe", "tiny", "--data", f"coco:{shapes_root}", "--batch-size", "2", "--epochs", "1",
            "--num-workers", "0", "--log-every", "1", "--rois-per-image", "32"]
