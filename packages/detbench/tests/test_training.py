"""The training stage on the shared Trainer (the same vis.core.det_train path as vis-vitdet, whose tests
cover the 2-process gloo equality): a stopped run resumes to bitwise the same weights."""

import json

from vis.core.testing import assert_bitwise_equal, final_weights
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
