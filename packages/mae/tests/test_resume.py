"""Exact resume: a run stopped mid-epoch and rerun with the same command ends bitwise identical."""

import json

from vis.core.testing import assert_bitwise_equal, final_weights


def test_resume_mid_epoch_is_bitwise_identical(tmp_path, fast_args, mae_pretrain):
    # two accumulated micro-batches of 32 per step: also exercises accumulation across a resume
    args = [*fast_args, "--accum-iter", "2", "--batch-size", "32"]
    full = mae_pretrain(*args, "--output-dir", tmp_path / "full", "--num-workers", "0")
    assert full.returncode == 0, full.stderr[-2000:]

    part = tmp_path / "part"
    first = mae_pretrain(*args, "--output-dir", part, "--stop-after-steps", "7", "--num-workers", "0")
    assert first.returncode == 0, first.stderr[-2000:]
    state_epoch = json.loads((part / "log.jsonl").read_text().splitlines()[-1])
    assert state_epoch["step"] <= 7 and state_epoch["epoch"] == 0  # stopped in the middle of epoch 0
    # resume with a different number of loader workers: samples depend only on (seed, epoch, index)
    second = mae_pretrain(*args, "--output-dir", part, "--num-workers", "2")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed from" in second.stdout and "step 7" in second.stdout

    assert_bitwise_equal(final_weights(tmp_path / "full"), final_weights(part))
    steps = [json.loads(x)["step"] for x in (part / "log.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)  # records after the resumed step were not duplicated
