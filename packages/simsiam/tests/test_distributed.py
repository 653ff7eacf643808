"""Two gloo processes with batch b each match one process with batch 2b: SyncBatchNorm makes every BN (the
backbone's and the heads') normalise over the global batch, DDP averages the gradients, and the lr follows
the global batch (0.05 x 64 / 256 in both runs).

Tolerance: the two runs sum the same per-sample terms in another order (SyncBN's statistics, DDP's average
of two half-batch means), so values differ by float32 rounding; SGD passes such differences on linearly."""

import json

import torch

from vis.core.testing import final_weights, run_script, torchrun
from vis.simsiam.cli import pretrain


def records(out) -> list[dict]:
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env, in_process):
    args = [*fast_args, "--log-every", "1", "--stop-after-steps", "8"]
    proc = run_script("simsiam-pretrain", *args, "--batch-size", "32", "--output-dir", tmp_path / "two",
                      env=gloo_env, launcher=torchrun(2, "vis.simsiam.pretrain", 29901))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 64" in proc.stdout
    in_process(pretrain.run, *args, "--batch-size", "64", "--output-dir", tmp_path / "one")
    one, two = records(tmp_path / "one"), records(tmp_path / "two")
    assert len(one) == len(two) == 8
    assert [r["lr/all"] for r in one] == [r["lr/all"] for r in two] == [0.05 * 64 / 256] * 8
    torch.testing.assert_close(torch.tensor([r["loss"] for r in two]), torch.tensor([r["loss"] for r in one]),
                               rtol=1e-4, atol=1e-6)
    a, b = final_weights(tmp_path / "one"), final_weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
