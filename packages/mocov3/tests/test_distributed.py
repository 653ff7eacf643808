"""Two gloo processes with batch b each match one process with batch 2b: the keys are gathered from both
ranks (labels arange(b) + b * rank over the 2b keys), every BatchNorm (the ResNet's, the projector's and the
predictor's, in both branches) normalises over the global batch, and the lr follows the global batch.

The run is the ResNet recipe (LARS). With AdamW (the ViT recipes) the weights cannot be compared this
closely: AdamW divides each element's gradient by its own magnitude, so an element whose gradient is zero in
exact arithmetic (the key part of each qkv bias: softmax ignores a shift common to all logits) moves by
+-lr on rounding noise alone. Gathers, SyncBN and the lr rule do not depend on the optimizer.
Tolerance: the two runs sum the same per-sample terms in another order (DDP averages two half-batch means;
SyncBN all-reduces partial sums), so values differ by float32 rounding."""

import json

import torch

from vis.core.testing import final_weights, run_script, torchrun
from vis.mocov3.cli import pretrain

ARGS = ["--recipe", "tiny-resnet", "--resnet-width", "4", "--input-size", "16", "--dim", "16", "--mlp-dim", "64",
        "--epochs", "1", "--warmup-epochs", "0.5", "--stop-after-steps", "6", "--log-every", "1",
        "--knn-every", "0", "--num-workers", "0"]


def records(out) -> list[dict]:
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_two_processes_match_one_process_with_double_batch(tmp_path, gloo_env, in_process):
    two = tmp_path / "two"
    proc = run_script("mocov3-pretrain", *ARGS, "--batch-size", "64", "--output-dir", two,
                      env=gloo_env,
                      launcher=torchrun(2, "vis.mocov3.pretrain", 29811))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 128" in proc.stdout + proc.stderr
    in_process(pretrain.run, *ARGS, "--batch-size", "128", "--output-dir", tmp_path / "one")
    r1, r2 = records(tmp_path / "one"), records(two)
    assert [r["step"] for r in r1] == [r["step"] for r in r2] == list(range(1, 7))
    torch.testing.assert_close(torch.tensor([r["loss"] for r in r2]), torch.tensor([r["loss"] for r in r1]),
                               rtol=1e-5, atol=0)
    assert [r["lr/all"] for r in r1] == [r["lr/all"] for r in r2]  # lr from the global batch, 128
    w1, w2 = final_weights(tmp_path / "one"), final_weights(two)
    assert w1.keys() == w2.keys() and any("layer1.0.bn1.running_mean" in k for k in w1)
    for k in w1:
        torch.testing.assert_close(w2[k].float(), w1[k].float(), rtol=1e-4, atol=1e-5, msg=k)
