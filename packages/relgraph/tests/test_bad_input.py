"""Bad input on every relgraph command: one line naming the problem, exit status 2, nothing written; result
files and images that cannot be read are named, counted and bounded."""

import json
import shutil

import pytest
import torch

from vis.core.testing import CORRUPT_FILES, corrupt_image_folder, fails_with_one_line
from vis.relgraph.cli import analyze, graphs, sweep, train


@pytest.mark.parametrize("args,words", [
    (["--k", "1"], ["--k", "must be in [2, --graph-nodes = 16]"]),
    (["--k", "17"], ["--k", "[2, --graph-nodes = 16]"]),
    (["--p", "1.5"], ["--p", "must be in [0, 1]"]),
    (["--p", "-0.1"], ["--p"]),
    (["--model", "vgg16"], ["--model", "vgg16"]),
    (["--width", "8"], ["--width", ">= --graph-nodes = 16"]),
    (["--data", "cifar10:/no/such/folder"], ["CIFAR-10 not found", "/no/such/folder"]),
])
def test_bad_train_values_fail_before_any_work(tmp_path, capsys, args, words):
    err = fails_with_one_line(capsys, train.run, "--output-dir", tmp_path / "out", *args)
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()


def test_bad_sweep_graphs_and_analysis_folders(tmp_path, capsys):
    err = fails_with_one_line(capsys, sweep.run, "--graphs", "n64-99", "--output-dir", tmp_path / "s")
    assert "--graphs" in err and "tiny, n64-3942" in err
    err = fails_with_one_line(capsys, graphs.run, "--graphs", "cifar", "--output", tmp_path / "g.csv")
    assert "--graphs" in err and not (tmp_path / "g.csv").exists()
    table = tmp_path / "not-a-table.csv"
    table.write_text("name,value\nx,1\n")
    err = fails_with_one_line(capsys, sweep.run, "--graphs", table, "--output-dir", tmp_path / "s2")
    assert "not a graph table" in err and "not-a-table.csv" in err and not (tmp_path / "s2" / "runs").exists()
    err = fails_with_one_line(capsys, analyze.run, "--results", tmp_path / "missing")
    assert "--results" in err and "runs/" in err
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    err = fails_with_one_line(capsys, analyze.run, "--results", tmp_path / "empty")
    assert "no finished run" in err


def test_unreadable_result_files_are_named_counted_and_bounded(tmp_path, fast_args, in_process, capsys):
    run = tmp_path / "sweep" / "runs" / "g1" / "seed0"
    in_process(train.run, *fast_args, "--epochs", "1", "--output-dir", run)
    for i, text in enumerate(["{not json", json.dumps({"graph": {}})]):
        bad = tmp_path / "sweep" / "runs" / f"g{i + 2}" / "seed0"
        bad.mkdir(parents=True)
        (bad / "result.json").write_text(text)
    summary, out = in_process(analyze.run, "--results", tmp_path / "sweep", "--max-skipped-fraction", "0.8")
    assert summary["graphs"] == 1 and out.count("skipped unreadable sample") == 2
    assert "relgraph-analyze (result files): skipped 2 unreadable of 3 samples" in out
    shutil.rmtree(tmp_path / "sweep" / "analysis")
    err = fails_with_one_line(capsys, analyze.run, "--results", tmp_path / "sweep", code=1)
    assert "2 of 3 samples unreadable" in err and not (tmp_path / "sweep" / "analysis").exists()


def test_corrupt_images_are_skipped_named_and_counted_in_training_precise_bn_and_evaluation(
        tmp_path, fast_args, in_process):
    root = corrupt_image_folder(tmp_path / "data")
    result, out = in_process(train.run, *fast_args, "--epochs", "1", "--batch-size", "31", "--data",
                             f"imagefolder:{root}", "--max-skipped-fraction", "0.2", "--output-dir", tmp_path / "run")
    for name in CORRUPT_FILES:  # named by training, precise BN (train split) and evaluation (val split)
        assert out.count(f"/{name}: ") >= 3, (name, out[-3000:])
    assert "precise BN: skipped 3 unreadable of 93 samples" in out
    assert "evaluation: skipped 3 unreadable of 33 samples" in out and "top1_err" in result
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)["samples"] == \
        {"seen": 93, "skipped": 3}
