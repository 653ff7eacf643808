"""A SimSiam run killed with kill -9 (at a step, and inside a checkpoint write) resumes to bitwise the same
weights: the SGD momentum buffers, both lr groups, the BN statistics and the sampler position come back."""

from vis.core.testing import kill_9_resumes_bitwise
from vis.simsiam.cli import pretrain


def test_kill_9_resumes_bitwise(tmp_path, fast_args):
    args = [*fast_args, "--fix-pred-lr", "--save-every-steps", "3", "--log-every", "1"]
    kept = kill_9_resumes_bitwise("simsiam-pretrain", pretrain.run, args, tmp_path, 44)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt
