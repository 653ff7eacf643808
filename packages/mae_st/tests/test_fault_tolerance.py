"""Exact resume and the 2-process rule hold for video as for images: kill -9 (once inside a checkpoint
write) resumes to bitwise the same weights, and two gloo processes with batch b log the losses of one
process with batch 2b (the clips, their crops and their masks depend on (seed, epoch, video) alone)."""

import json

import torch

from vis.core.testing import kill_9_resumes_bitwise, run_script, torchrun
from vis.mae_st.cli import pretrain

SMALL = ["--depth", "1", "--decoder-depth", "1", "--epochs", "1", "--warmup-epochs", "0.2", "--log-every", "1"]


def test_kill_9_resumes_video_pretraining_bitwise(tmp_path, shapes):
    args = ["--data", shapes, *SMALL, "--batch-size", "8", "--stop-after-steps", "14", "--save-every-steps", "3"]
    kept = kill_9_resumes_bitwise("maest-pretrain", pretrain.run, args, tmp_path, 14, points=("write", "step"))
    assert len(kept) == 1


def losses(out) -> list[float]:
    return [r["loss"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in r]


def test_two_processes_match_one_process_with_double_batch(tmp_path, shapes, gloo_env, in_process):
    args = ["--data", shapes, *SMALL, "--stop-after-steps", "4", "--num-workers", "0"]
    two = run_script("maest-pretrain", *args, "--batch-size", "4", "--output-dir", tmp_path / "two", env=gloo_env,
                     launcher=torchrun(2, "vis.mae_st.pretrain", 29853))
    assert two.returncode == 0, two.stderr[-3000:]
    in_process(pretrain.run, *args, "--batch-size", "8", "--output-dir", tmp_path / "one")
    l1, l2 = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(l1) == len(l2) == 4
    torch.testing.assert_close(torch.tensor(l2), torch.tensor(l1), rtol=1e-4, atol=0)
