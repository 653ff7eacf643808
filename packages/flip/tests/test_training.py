"""The training loop around FLIP: a run killed with kill -9 (at a step, and inside a checkpoint write)
resumes to bitwise the same weights, virtual epochs included; two gloo processes with batch b match one
process with batch 2b (the global-batch loss, its gathers and the lr rule); the temperature is clamped after
each step; unmasked tuning starts from the masked run's weights."""

import json

import torch

from vis.core.testing import final_weights, kill_9_resumes_bitwise, run_script, torchrun
from vis.flip.cli import pretrain

run = pretrain.run


def records(out) -> list[dict]:
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_kill_9_resumes_bitwise(tmp_path, fast_args):
    kept = kill_9_resumes_bitwise("flip-pretrain", run, [*fast_args, "--epochs", "3", "--save-every-steps", "2"],
                                  tmp_path, 30)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env, in_process):
    """Tolerance: the ranks sum the same per-sample terms in another order (float32 rounding), and AdamW's
    first updates (~lr sign(g)) move near-zero gradients differently; the losses agree to 1e-4 relative."""
    args = [*fast_args, "--stop-after-steps", "6", "--loss", "local"]
    two = tmp_path / "two"
    proc = run_script("flip-pretrain", *args, "--batch-size", "32", "--output-dir", two, env=gloo_env,
                      launcher=torchrun(2, "vis.flip.pretrain", 29841))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 64" in proc.stdout + proc.stderr
    in_process(run, *args, "--output-dir", tmp_path / "one")
    r1, r2 = records(tmp_path / "one"), records(two)
    assert [r["step"] for r in r1] == [r["step"] for r in r2] == list(range(1, 7))
    torch.testing.assert_close(torch.tensor([r["loss"] for r in r2]), torch.tensor([r["loss"] for r in r1]),
                               rtol=1e-4, atol=0)
    assert [r["lr/decay"] for r in r1] == [r["lr/decay"] for r in r2]


def test_temperature_is_clamped_and_tuning_starts_from_the_masked_weights(tmp_path, fast_args, in_process):
    in_process(run, *fast_args, "--stop-after-steps", "2", "--init-logit-scale", "4.7", "--output-dir", tmp_path / "a")
    w = final_weights(tmp_path / "a")
    assert w["logit_scale"].item() <= torch.log(torch.tensor(100.0)).item() + 1e-6  # 4.7 > ln 100 = 4.605
    assert w["logit_scale"].item() > 4.5
    start = tmp_path / "a" / "checkpoints" / "last.pt"
    in_process(run, *fast_args, "--mask-ratio", "0", "--finetune", start, "--stop-after-steps", "1", "--lr", "0",
               "--output-dir", tmp_path / "b")
    tuned = final_weights(tmp_path / "b")
    assert all(torch.equal(tuned[k], w[k]) for k in w)  # lr 0: the tuning run holds the masked run's weights
