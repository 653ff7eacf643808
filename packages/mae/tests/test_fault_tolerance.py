"""Fault tolerance outside SLURM: kill -9 at random points (one inside a checkpoint write) resumes to bitwise
the same weights; a full disk and an unwritable output folder stop with one clear line and lose nothing."""

import hashlib
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from vis.core import checkpoint as ckpt
from vis.core.testing import BIN, assert_bitwise_equal, final_weights, logged_steps, wait_for_step
from vis.mae.cli import pretrain

run = pretrain.run


def start(*args) -> subprocess.Popen:
    cmd = [str(BIN / "mae-pretrain"), *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kill_inside_a_checkpoint_write(proc: subprocess.Popen, last, timeout: float = 120) -> str:
    """Freeze the run as soon as last.pt.tmp appears; if it is still there (the write is under way), kill -9
    it there. Returns the hash last.pt had at that moment."""
    tmp = last.with_name(last.name + ".tmp")
    end = time.time() + timeout
    while time.time() < end and proc.poll() is None:
        if tmp.exists():
            os.kill(proc.pid, signal.SIGSTOP)
            if tmp.exists() and last.exists():
                before = sha(last)
                proc.kill()
                proc.wait()
                return before
            os.kill(proc.pid, signal.SIGCONT)  # too late, the rename is done: wait for the next save
        time.sleep(0.0005)
    raise AssertionError("no checkpoint write caught")


def test_kill_9_at_three_points_resumes_bitwise(tmp_path, fast_args, in_process):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    # two accumulated micro-batches per step: accumulation state must also survive a kill
    args = [*fast_args, "--accum-iter", "2", "--batch-size", "32", "--save-every-steps", "2", "--log-every", "1"]
    in_process(run, *args, "--num-workers", "0", "--output-dir", tmp_path / "ref")  # uninterrupted

    out = tmp_path / "run"
    last = out / "checkpoints" / "last.pt"
    cmd = [*args, "--num-workers", "0", "--output-dir", out]
    for point in ("a random step", "a checkpoint write", "a random step"):
        proc = start(*cmd)
        done = (logged_steps(out) or [0])[-1]
        if point == "a checkpoint write":
            before = kill_inside_a_checkpoint_write(proc, last)
            assert sha(last) == before, f"seed {seed}: an interrupted write replaced last.pt"
            assert ckpt.load(last)["step"] % 2 == 0
        else:
            wait_for_step(out, done + rng.randint(1, 8), alive=lambda: proc.poll() is None)
            proc.kill()
            proc.wait()
    # the same command once more (in this process), with loader workers this time (samples depend on
    # (seed, epoch, index) only)
    _, printed = in_process(run, *args, "--num-workers", "2", "--output-dir", out)
    assert "resumed from" in printed
    assert_bitwise_equal(final_weights(tmp_path / "ref"), final_weights(out))
    assert logged_steps(out) == list(range(1, 45)), f"seed {seed}"  # each step logged once, none lost


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
