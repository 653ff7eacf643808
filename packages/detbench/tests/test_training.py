"""The training stage on the shared Trainer (the same vis.core.det_train path as vis-vitdet): a stopped run
resumes to bitwise the same weights; two gloo processes with one image each equal one process with two (the
tiny recipe's GroupNorm heads: with BatchNorm heads they differ by design, see docs/detbench.md)."""

import json

from vis.core.testing import assert_bitwise_equal, detector_two_processes_match_one, final_weights
from vis.detbench.cli import train


def test_stopped_run_resumes_bitwise(tmp_path, fast_args, in_process):
    args = [*fast_args, "--stop-after-steps", "4"]
    in_process(train.run, *args, "--output-dir", tmp_path / "ref")
    in_process(train.run, *args, "--stop-after-steps", "2", "--output-dir", tmp_path / "run")
    _, printed = in_process(train.run, *args, "--output-dir", tmp_path / "run")
    assert "resumed from" in printed
    assert_bitwise_equal(final_weights(tmp_path / "ref"), final_weights(tmp_path / "run"))
    records = map(json.loads, (tmp_path / "run" / "log.jsonl").read_text().splitlines())
    steps = [r["step"] for r in records if "loss" in r]
    assert steps == [1, 2, 3, 4]


def test_two_processes_match_one_process_with_double_batch(tmp_path, fast_args, gloo_env):
    detector_two_processes_match_one("detbench-train", "vis.detbench.train", train.run, fast_args, tmp_path,
                                     gloo_env, 29881)
