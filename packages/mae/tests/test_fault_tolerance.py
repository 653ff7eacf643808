"""Fault tolerance outside SLURM: kill -9 at random points (one inside a checkpoint write) resumes to bitwise
the same weights; a full disk and an unwritable output folder stop with one clear line and lose nothing."""

import os
import shutil
import subprocess

import pytest

from vis.core import checkpoint as ckpt
from vis.core.testing import kill_9_resumes_bitwise, sha
from vis.mae.cli import pretrain

run = pretrain.run


def test_kill_9_at_three_points_resumes_bitwise(tmp_path, fast_args):
    # two accumulated micro-batches per step: accumulation state must also survive a kill
    args = [*fast_args, "--accum-iter", "2", "--batch-size", "32", "--save-every-steps", "2", "--log-every", "1"]
    kept = kill_9_resumes_bitwise("mae-pretrain", run, args, tmp_path, 44, points=("step", "write", "step"))
    assert len(kept) == 1 and kept[0] % 2 == 0  # the last.pt an interrupted write left is a whole one


def _mount_tmpfs(folder, options: str) -> None:
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)


needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                                reason="mounting a small tmpfs needs root")


def run_fails(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        run([str(a) for a in args])
    return stop.value.code, capsys.readouterr().err.strip()


@needs_root
def test_full_disk_stops_at_the_failed_save_and_keeps_last_checkpoint(tmp_path, fast_args, capsys):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "size=16m")
    try:
        out = disk / "run"
        args = [*fast_args, "--num-workers", "0", "--save-every-steps", "2", "--output-dir", out]
        run([*map(str, args), "--stop-after-steps", "2"])
        last = out / "checkpoints" / "last.pt"
        before = sha(last)
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * (free - 64 * 1024))  # room for logs, not for a checkpoint
        code, err = run_fails(capsys, *args)
        assert code == 1 and len(err.splitlines()) == 1, err
        assert "could not write a checkpoint at step 4: No space left on device" in err
        assert "previous last.pt is kept" in err
        assert sha(last) == before and ckpt.load(last)["step"] == 2
        assert not list(out.rglob("*.tmp"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_unwritable_output_folder_fails_before_training(tmp_path, fast_args, capsys):
    folder = tmp_path / "readonly"
    if os.geteuid() == 0:
        _mount_tmpfs(folder, "ro,size=1m")
    else:
        folder.mkdir(mode=0o500)
    try:
        code, err = run_fails(capsys, *fast_args, "--output-dir", folder / "run")
        assert code == 2 and err.startswith("error: output folder is not writable"), err
        assert len(err.splitlines()) == 1 and not (folder / "run").exists()
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=True)
