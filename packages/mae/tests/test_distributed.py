"""Two gloo processes: DDP with batch b each matches one process with batch 2b; FSDP matches DDP.

Tolerance (DDP vs one process): the two runs sum the same per-sample gradients in a different order (DDP
averages two half-batch means), so gradients differ by float32 rounding (~1e-7 relative), and AdamW's early
updates (~lr * sign(g)) can move near-zero-gradient weights differently. The logged losses of the first epoch
must agree to 1e-4 relative.

FSDP vs DDP is exact on two ranks: both average two gradients (a + b is the same in either order), and AdamW
is elementwise, so sharding the update changes no bit.
"""

import json

import torch

from vis.core import checkpoint as ckpt
from vis.core.testing import assert_bitwise_equal, final_weights, logged_steps, torchrun
from vis.mae.cli import pretrain

run = pretrain.run


def losses(out) -> list[float]:
    return [r["loss"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_two_processes_match_one_process_with_double_batch(tmp_path, two_rank_args, two_rank_reference,
                                                           in_process):
    in_process(run, *two_rank_args, "--batch-size", "64", "--stop-after-steps", "22", "--output-dir", tmp_path / "one")
    l1, l2 = losses(tmp_path / "one"), losses(two_rank_reference)[:22]
    assert len(l1) == 22
    torch.testing.assert_close(torch.tensor(l2), torch.tensor(l1), rtol=1e-4, atol=0)


def test_fsdp_matches_ddp_and_resumes_from_sharded_checkpoints(tmp_path, two_rank_args, two_rank_reference,
                                                                gloo_env, mae_pretrain):
    out = tmp_path / "fsdp"
    fsdp = [*two_rank_args, "--parallel", "fsdp", "--output-dir", out]
    launcher = torchrun(2, "vis.mae.pretrain", 29735)
    first = mae_pretrain(*fsdp, "--stop-after-steps", "30", env=gloo_env, launcher=launcher)
    assert first.returncode == 0, first.stderr[-3000:]
    state = ckpt.load(out / "checkpoints" / "last.pt")
    assert "model" not in state and "optimizer" not in state  # the weights are in the shard folder
    shards = out / "checkpoints" / state["sharded"]
    assert sorted(p.name for p in shards.glob("*.distcp")) == ["__0_0.distcp", "__1_0.distcp"]

    second = mae_pretrain(*fsdp, env=gloo_env, launcher=launcher)  # the same command: resumes from the shards
    assert second.returncode == 0, second.stderr[-3000:]
    assert "step 30" in second.stdout and "resumed from" in second.stdout
    assert logged_steps(out) == logged_steps(two_rank_reference)
    assert losses(out) == losses(two_rank_reference)
    assert_bitwise_equal(final_weights(two_rank_reference), final_weights(out))
    named = {ckpt.load(out / "checkpoints" / f)["sharded"] for f in ("last.pt", "checkpoint-3.pt")}
    assert {p.name for p in (out / "checkpoints").glob("shards-*")} == named  # superseded folders removed
