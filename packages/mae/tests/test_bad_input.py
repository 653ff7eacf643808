"""Bad input: one line naming the problem, exit status 2, no traceback, nothing overwritten."""

import os

import pytest
import torch

from vis.core.testing import snapshot
from vis.mae.cli import pretrain

run = pretrain.run


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("existing")
    run(["--output-dir", str(out), "--epochs", "1", "--warmup-epochs", "0", "--stop-after-steps", "2",
         "--num-workers", "0", "--knn-every", "0", "--depth", "1", "--decoder-depth", "1"])
    return out


def assert_one_line_error(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-1000:], proc.stderr[-2000:])
    check_message(proc.stdout, proc.stderr, *words)


def check_message(stdout: str, stderr: str, *words: str) -> None:
    err = stderr.strip()
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for w in words:
        assert w in err, err


def run_in_process(capsys, *args):
    """The entry point's own code path (parse, validate, launch) without a new interpreter's start-up."""
    with pytest.raises(SystemExit) as stop:
        run([str(a) for a in args])
    out = capsys.readouterr()
    assert stop.value.code == 2, out
    return out


@pytest.mark.parametrize("args,words", [
    (["--recipe", "nope"], ["unknown recipe 'nope'", "tiny"]),
    (["--blr", "-1"], ["--blr", ">= 0"]),
    (["--lr", "-0.1"], ["--lr", ">= 0"]),
    (["--data", "imagefolder:/no/such/folder"], ["data folder not found", "/no/such/folder"]),
    (["--data", "cifar"], ["unknown dataset spec 'cifar'"]),
    (["--mask-ratio", "1.5"], ["--mask-ratio"]),
])
def test_bad_values_fail_before_any_work(existing_run, capsys, args, words):
    before = snapshot(existing_run)
    out = run_in_process(capsys, "--output-dir", existing_run, *args)
    check_message(out.out, out.err, *words)
    assert snapshot(existing_run) == before


def test_bad_value_from_the_shell(mae_pretrain, tmp_path):
    proc = mae_pretrain("--output-dir", tmp_path / "out", "--blr", "-1")
    assert_one_line_error(proc, "--blr")
    assert not (tmp_path / "out").exists()


def test_truncated_last_checkpoint_is_reported_and_kept(existing_run, capsys, tmp_path):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    data = (existing_run / "checkpoints" / "last.pt").read_bytes()
    (out / "checkpoints" / "last.pt").write_bytes(data[: len(data) // 2])
    before = snapshot(out)
    result = run_in_process(capsys, "--output-dir", out, "--depth", "1", "--decoder-depth", "1")
    check_message(result.out, result.err, "cannot read checkpoint", "last.pt")
    assert snapshot(out) == before


def test_unreadable_resume_file(capsys, tmp_path):
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(os.urandom(1000))
    result = run_in_process(capsys, "--output-dir", tmp_path / "out", "--resume", bad)
    check_message(result.out, result.err, "cannot read checkpoint", "garbage.pt")
    assert not (tmp_path / "out").exists()
    result = run_in_process(capsys, "--output-dir", tmp_path / "out", "--resume", tmp_path / "missing.pt")
    check_message(result.out, result.err, "checkpoint not found")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # creates a file when unpickled


def test_checkpoint_that_would_run_code_is_refused(capsys, tmp_path):
    marker = tmp_path / "code-ran"
    evil = tmp_path / "out" / "checkpoints" / "last.pt"
    evil.parent.mkdir(parents=True)
    torch.save({"model": {}, "payload": _RunsCode(str(marker))}, evil)
    assert not marker.exists()
    result = run_in_process(capsys, "--output-dir", tmp_path / "out")
    check_message(result.out, result.err, "refused to load checkpoint", "last.pt")
    assert not marker.exists()
