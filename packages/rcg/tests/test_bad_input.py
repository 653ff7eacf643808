"""Bad input: one line naming the problem, exit status 2, nothing written or overwritten."""

import pytest

from vis.core.testing import snapshot
from vis.rcg import cli


def check_message(err: str, *words: str) -> None:
    err = err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for w in words:
        assert w in err, err


def fails(capsys, entry, *args):
    with pytest.raises(SystemExit) as stop:
        entry.run([str(a) for a in args])
    out = capsys.readouterr()
    assert stop.value.code == 2, out
    assert "Traceback" not in out.err
    return out.err


@pytest.mark.parametrize("entry,args,words", [
    (cli.train_rdm, ["--encoder", "/no/such.pt"], ["--encoder", "not a file"]),
    (cli.train_rdm, [], ["--encoder", "not a file", "output/mocov3-tiny/projector.pt"]),
    (cli.train_rdm, ["--sample-steps", "2000", "--encoder", "ENC"], ["--sample-steps"]),
    (cli.train_rdm, ["--ema-decay", "1.0", "--encoder", "ENC"], ["--ema-decay"]),
    (cli.train_pixel, ["--channels", "40", "--encoder", "ENC"], ["--channels", "multiple of 32"]),
    (cli.train_pixel, ["--input-size", "10", "--channel-mult", "1", "2", "2", "--encoder", "ENC"], ["--input-size"]),
    (cli.train_pixel, ["--rep-drop-prob", "1.5", "--encoder", "ENC"], ["--rep-drop-prob"]),
    (cli.sample, ["--rdm", "/no/rdm.pt", "--pixel", "ENC"], ["--rdm", "not a file"]),
    (cli.evaluate, ["--samples", "/no/folder", "--encoder", "ENC"], ["--samples", "not a folder"]),
    (cli.evaluate, ["--samples", "DIR", "--encoder", "ENC", "--metrics", "fid"], ["--inception-weights",
                                                                                  "weights-inception"]),
    (cli.evaluate, ["--samples", "DIR", "--encoder", "ENC", "--metrics", "kid"], ["--metrics"]),
])
def test_bad_values_fail_before_any_work(capsys, tmp_path, encoder_file, entry, args, words):
    args = [str(encoder_file) if a == "ENC" else str(tmp_path) if a == "DIR" else a for a in args]
    out = tmp_path / "out"
    err = fails(capsys, entry, "--output-dir", out, *args)
    check_message(err, *words)
    assert not out.exists()


def test_wrong_checkpoint_kind_and_existing_samples(capsys, tmp_path, encoder_file):
    out = tmp_path / "out"
    err = fails(capsys, cli.sample, "--rdm", encoder_file, "--pixel", encoder_file, "--output-dir", out)
    check_message(err, "not an rdm checkpoint of rcg", "rcg-train-rdm")
    out.mkdir()
    (out / "samples.png").write_bytes(b"keep")
    before = snapshot(out)
    err = fails(capsys, cli.sample, "--rdm", encoder_file, "--pixel", encoder_file, "--output-dir", out)
    check_message(err, "--output-dir", "--force")
    assert snapshot(out) == before


def test_missing_inception_file_is_named(capsys, tmp_path, encoder_file):
    err = fails(capsys, cli.evaluate, "--samples", tmp_path, "--encoder", encoder_file, "--metrics", "is",
                "--inception-weights", tmp_path / "inception.pth")
    check_message(err, "--inception-weights", "weights-inception-2015-12-05-6726825d.pth")
