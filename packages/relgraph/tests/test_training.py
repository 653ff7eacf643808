"""relgraph-train on the shared engine: a run killed with kill -9 (at a step, and inside a checkpoint write)
resumes to bitwise the same weights, and two gloo processes with batch b match one process with 2b (DDP,
SyncBatchNorm over the global batch, the lr of the global batch)."""

import json

import torch

from vis.core.testing import final_weights, kill_9_resumes_bitwise, run_script, torchrun
from vis.relgraph.cli import train


def test_kill_9_resumes_bitwise(tmp_path, fast_args):
    kept = kill_9_resumes_bitwise("relgraph-train", train.run, [*fast_args, "--save-every-steps", "2"], tmp_path, 22)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt
    assert json.loads((tmp_path / "run" / "result.json").read_text())["top1_err"] == \
        json.loads((tmp_path / "ref" / "result.json").read_text())["top1_err"]


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env, in_process):
    args = [*fast_args, "--epochs", "1", "--stop-after-steps", "6", "--precise-bn-samples", "0"]
    proc = run_script("relgraph-train", *args, "--batch-size", "64", "--output-dir", tmp_path / "two", env=gloo_env,
                      launcher=torchrun(2, "vis.relgraph.train", 29931))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 128" in proc.stdout + proc.stderr
    in_process(train.run, *args, "--batch-size", "128", "--output-dir", tmp_path / "one")
    losses = [[r["loss"] for r in map(json.loads, (tmp_path / d / "log.jsonl").read_text().splitlines()) if "loss" in r]
              for d in ("one", "two")]
    assert len(losses[0]) == 6
    torch.testing.assert_close(torch.tensor(losses[1]), torch.tensor(losses[0]), rtol=1e-5, atol=0)
    a, b = final_weights(tmp_path / "one"), final_weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k].float(), a[k].float(), rtol=1e-4, atol=1e-6, msg=k)
