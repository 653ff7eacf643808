"""Both generator stages on the shared Trainer: rcg-train-rdm killed with kill -9 (at a step and inside a
checkpoint write) resumes to bitwise the same weights (EMA included); two gloo processes of rcg-train-pixel
with half the batch each equal one process (every draw per sample); --nodes submits through submitit."""

import json

import pytest
import torch

from vis.core.testing import (
    assert_same_slurm_request,
    final_weights,
    kill_9_resumes_bitwise,
    one_torch_thread,
    run_script,
    submits_locally,
    torchrun,
)
from vis.rcg import cli

SMALL_RDM = ["--recipe", "tiny", "--rdm-depth", "2", "--rdm-width", "64", "--batch-size", "64", "--epochs", "1",
             "--fd-samples", "20", "--sample-steps", "5", "--log-every", "1"]
SMALL_PIXEL = ["--recipe", "tiny", "--channels", "32", "--batch-size", "32", "--epochs", "1", "--num-figures", "2",
               "--sample-steps", "2", "--log-every", "1", "--stop-after-steps", "3"]


@pytest.fixture
def one_thread(monkeypatch):
    """One intra-op thread here and in the processes this test starts: the killed runs are real processes,
    and float sums over another number of threads differ in their last bits."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with one_torch_thread():
        yield


def test_rdm_kill_9_resumes_bitwise(tmp_path, encoder_file, one_thread):
    args = [*SMALL_RDM, "--encoder", encoder_file, "--save-every-steps", "3"]
    kept = kill_9_resumes_bitwise("rcg-train-rdm", cli.train_rdm.run, args, tmp_path, 22)
    assert len(kept) == 1  # the interrupted write left the previous, whole last.pt
    assert "ema.module.input_proj.weight" in final_weights(tmp_path / "run")  # the EMA came back too


def test_pixel_two_processes_match_one_process_with_double_batch(tmp_path, encoder_file, gloo_env):
    args = [*SMALL_PIXEL, "--encoder", encoder_file]
    proc = run_script("rcg-train-pixel", *args, "--batch-size", "16", "--output-dir", tmp_path / "two",
                      env=gloo_env, launcher=torchrun(2, "vis.rcg.train_pixel", 29871))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 32" in proc.stdout + proc.stderr
    cli.train_pixel.run([*map(str, args), "--output-dir", str(tmp_path / "one")])
    losses = [[r["loss"] for r in map(json.loads, (tmp_path / d / "log.jsonl").read_text().splitlines())
               if "loss" in r] for d in ("one", "two")]
    # the losses after the first and second updates agree: the same gradients, up to the order in which DDP
    # sums them (float32 rounding; Adam's g / sqrt(v) magnifies it in near-zero gradients, so the weights
    # themselves are not compared elementwise)
    assert len(losses[0]) == 3
    torch.testing.assert_close(torch.tensor(losses[1]), torch.tensor(losses[0]), rtol=1e-4, atol=0)


def test_nodes_option_submits_runs_and_returns(tmp_path, encoder_file, capsys):
    args = [*SMALL_RDM, "--encoder", encoder_file, "--stop-after-steps", "2"]
    result, log = submits_locally(cli.train_rdm, args, tmp_path / "job", capsys)
    assert "global batch 64" in log and result["step"] == 2
    encoder = ["--encoder", encoder_file]
    assert_same_slurm_request((cli.train_rdm, encoder), (cli.train_pixel, encoder))
