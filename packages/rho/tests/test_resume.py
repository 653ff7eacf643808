"""A rho-MoCo run stopped after 3 steps and resumed by rerunning the same command ends with bitwise the weights,
queue, queue pointer and progress of the run that was never stopped (the queue fills at step 2, so the resumed
part trains against the restored queue)."""

from vis.core.testing import assert_bitwise_equal, final_weights, logged_steps
from vis.rho.cli import pretrain


def test_stopped_and_resumed_run_is_bitwise_the_uninterrupted_one(tmp_path, shapes, in_process):
    args = ["--data", shapes, "--method", "moco", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "32",
            "--queue-len", "128", "--dim", "16", "--mlp-dim", "32", "--num-workers", "0", "--log-every", "1"]
    in_process(pretrain.run, *args, "--output-dir", tmp_path / "ref")
    in_process(pretrain.run, *args, "--stop-after-steps", "3", "--output-dir", tmp_path / "run")
    _, printed = in_process(pretrain.run, *args, "--output-dir", tmp_path / "run")
    ref, run = final_weights(tmp_path / "ref"), final_weights(tmp_path / "run")
    assert run["queue.filled"] and int(run["queue.ptr"]) == (9 * 64) % 128
    assert_bitwise_equal(ref, run)
    assert logged_steps(tmp_path / "run") == list(range(1, 10))
