"""Helpers for the test suites of vis packages: run a console script, follow a run, compare checkpoints."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

BIN = Path(sys.executable).parent
GLOO_ENV = {"GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
"""Loopback gloo and one thread per process: what the 2-process tests run under on a 2-core machine."""


def run_script(name: str, *args: object, timeout: float = 600, env: dict[str, str] | None = None,
               launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run an installed console script (or `launcher + args`) and capture its output."""
    cmd = (launcher or [str(BIN / name)]) + [str(a) for a in args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def torchrun(nproc: int, module: str, port: int) -> list[str]:
    """A torchrun command prefix starting `python -m module` on `nproc` local processes."""
    return [str(BIN / "torchrun"), "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
            "--master-port", str(port), "-m", module]


def run_benchmark(monkeypatch, capsys, script: Path, *args: str) -> str:
    """Run a benchmarks/ script in this process with `args` as its command line; returns what it printed."""
    import runpy

    monkeypatch.setattr(sys, "argv", [Path(script).name, *args])
    runpy.run_path(str(script), run_name="__main__")
    return capsys.readouterr().out


def final_weights(out_dir: Path) -> dict[str, torch.Tensor]:
    """The model state of <out_dir>/checkpoints/last.pt (read from its shard folder under FSDP)."""
    from vis.core.convert import read_weights

    return read_weights(Path(out_dir) / "checkpoints" / "last.pt")


def assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


def logged_steps(out_dir: Path) -> list[int]:
    """The optimizer steps of the training records in <out_dir>/log.jsonl (empty before the first)."""
    log = Path(out_dir) / "log.jsonl"
    if not log.exists():
        return []
    steps = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line being written, or cut by a killed process
            continue
        if "loss" in record:
            steps.append(record["step"])
    return steps


def wait_for_step(out_dir: Path, step: int, timeout: float = 120, alive=lambda: True) -> int:
    """Poll log.jsonl until a step >= `step` is logged; return it. Fails after `timeout` s or once `alive()`
    is false."""
    end = time.time() + timeout
    while time.time() < end and alive():
        steps = logged_steps(out_dir)
        if steps and steps[-1] >= step:
            return steps[-1]
        time.sleep(0.02)
    raise AssertionError(f"no step {step} logged in {out_dir} (last: {logged_steps(out_dir)[-1:]})")


def fails_with_one_line(capsys, run, *args: object, code: int = 2) -> str:
    """Call an entry point's `run(args)` expecting bad input: it must exit with `code` (2: bad input, 1: a
    failure during the run) after one line on stderr starting "error: "; returns that line. `capsys` is
    pytest's fixture."""
    import pytest

    with pytest.raises(SystemExit) as stop:
        run([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == code and len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


def sha(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[Path, str]:
    """Every file under `folder` with its hash: compare two snapshots to show nothing was written."""
    return {p: sha(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def kill_inside_a_checkpoint_write(proc: subprocess.Popen, last: Path, timeout: float = 120) -> str:
    """Freeze the run `proc` as soon as `last`.tmp appears; if it is still there (the write is under way),
    kill -9 it there. Returns the hash `last` had at that moment."""
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


def _kill_9_at(script: str, args: list, out: Path, points: tuple[str, ...], seed: int) -> list[int]:
    """Start `script args --output-dir out` once per point and kill -9 it there: "step" (a random step 1 to
    8 after the last logged one) or "write" (inside a checkpoint write, which must leave last.pt as it was).
    Returns the step of last.pt after each "write" kill."""
    from vis.core import checkpoint as ckpt

    rng = random.Random(seed)
    last = Path(out) / "checkpoints" / "last.pt"
    kept = []
    for point in points:
        proc = subprocess.Popen([str(BIN / script), *map(str, args), "--output-dir", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = (logged_steps(out) or [0])[-1]
        if point == "write":
            before = kill_inside_a_checkpoint_write(proc, last)
            assert sha(last) == before, f"seed {seed}: an interrupted write replaced last.pt"
            kept.append(ckpt.load(last)["step"])  # still a complete checkpoint
        else:
            wait_for_step(out, done + rng.randint(1, 8), alive=lambda: proc.poll() is None)
            proc.kill()
            proc.wait()
    return kept


def state_from_shapes(shapes: dict[str, tuple]) -> dict[str, torch.Tensor]:
    """A state dict with the given key layout (an official checkpoint's, written out in a test): each tensor
    filled with its own value, so a test can see that every key landed in its place; () is an integer
    scalar (BatchNorm's num_batches_tracked)."""
    return {k: torch.tensor(7) if s == () else torch.full(s, (i % 89) / 89) for i, (k, s) in enumerate(shapes.items())}


def bn_shapes(prefix: str, channels: int, affine: bool = True) -> dict[str, tuple]:
    """The state-dict keys and shapes of a BatchNorm at `prefix` (without weight and bias when not affine)."""
    s = {f"{prefix}.running_mean": (channels,), f"{prefix}.running_var": (channels,),
         f"{prefix}.num_batches_tracked": ()}
    return s | ({f"{prefix}.weight": (channels,), f"{prefix}.bias": (channels,)} if affine else {})


def kill_9_resumes_bitwise(script: str, run, args: list, tmp_path: Path, steps: int,
                           points: tuple[str, ...] = ("step", "write")) -> list[int]:
    """The whole kill -9 check of a training entry point (`script`, `run` its EntryPoint.run): the run
    uninterrupted in this process; the same command as real processes killed at `points` (see `_kill_9_at`);
    then finished in this process with 2 loader workers (samples depend on (seed, epoch, index) only). The
    final weights must be bitwise those of the uninterrupted run and each of the `steps` steps logged once.
    Returns the steps of last.pt left by the "write" kills."""
    import contextlib
    import io

    seed = random.randrange(10**6)
    args = [str(a) for a in args]
    run([*args, "--num-workers", "0", "--output-dir", str(Path(tmp_path) / "ref")])
    out = Path(tmp_path) / "run"
    kept = _kill_9_at(script, [*args, "--num-workers", "0"], out, points, seed)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run([*args, "--num-workers", "2", "--output-dir", str(out)])
    assert "resumed from" in printed.getvalue(), f"seed {seed}"
    assert_bitwise_equal(final_weights(Path(tmp_path) / "ref"), final_weights(out))
    assert logged_steps(out) == list(range(1, steps + 1)), f"seed {seed}: each step logged once, none lost"
    return kept


CORRUPT_FILES = ("truncated.jpg", "empty.jpg", "notes.png")
"""The unreadable files `corrupt_image_folder` puts in class 3 of each split."""


def corrupt_image_folder(root: Path, train_per_class: int = 9, val_per_class: int = 3) -> Path:
    """An imagefolder of scikit-learn digits as 32-px RGB PNGs (`train_per_class` and `val_per_class` images
    per class in train/ and val/), plus in each split the three CORRUPT_FILES in class 3: a truncated JPEG,
    an empty file and a text file named .png. For the skip-name-count tests of every entry point."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, target = digits.images, digits.target
    splits = {"train": (0, train_per_class), "val": (train_per_class, train_per_class + val_per_class)}
    for split, (lo, hi) in splits.items():
        folder = Path(root) / split
        for c in range(10):
            (folder / str(c)).mkdir(parents=True, exist_ok=True)
            for k in np.flatnonzero(target == c)[lo:hi]:
                img = Image.fromarray(np.uint8(images[k] * 255 / 16)).resize((32, 32)).convert("RGB")
                img.save(folder / str(c) / f"{k}.png")
        whole = folder / "3" / "whole.jpg"
        Image.fromarray(np.uint8(images[0] * 255 / 16)).resize((32, 32)).save(whole)
        data = whole.read_bytes()
        whole.unlink()
        (folder / "3" / CORRUPT_FILES[0]).write_bytes(data[: len(data) // 2])
        (folder / "3" / CORRUPT_FILES[1]).write_bytes(b"")
        (folder / "3" / CORRUPT_FILES[2]).write_text("these are my notes, not an image\n")
    return Path(root)


def broken_kinetics(spec: str, root: Path, splits: tuple[str, ...] = ("train", "val")) -> Path:
    """A Kinetics-style CSV folder at `root`: 16 good videos of the generated dataset named by `spec` (e.g.
    "moving-shapes:PATH", "persistent-shapes:PATH"), a truncated copy of one and a file that does not exist,
    for each of `splits`."""
    src = Path(spec.split(":", 1)[1])
    lines = (src / "train.csv").read_text().splitlines()[:16]
    whole = (src / "train" / "0000.mp4").read_bytes()
    root.mkdir()
    (root / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    rows = [f"{src / line.split()[0]} {line.split()[1]}" for line in lines] + ["cut.mp4 1", "gone/missing.mp4 2"]
    for split in splits:
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    return root


def assert_corrupt_files_counted(printed: str, out_dir: Path) -> None:
    """What a one-epoch pre-training run on `corrupt_image_folder` (batch 31: three steps read all 93
    training files) must show: each bad file named by training and by the kNN monitor (train and val
    splits), the monitor's count (3 of 93 plus 3 of 33), and the sample counters in its checkpoint."""
    for name in CORRUPT_FILES:
        assert printed.count(f"/{name}: ") >= 3, (name, printed[-3000:])
    assert "the kNN monitor: skipped 6 unreadable of 126 samples" in printed, printed[-3000:]
    state = torch.load(Path(out_dir) / "checkpoints" / "last.pt", weights_only=True)
    assert state["samples"] == {"seen": 93, "skipped": 3}


LOCAL_JOB = ["--nodes", "1", "--cluster", "local", "--gpus-per-node", "0", "--tasks-per-node", "1",
             "--timeout-min", "10"]
"""Launch options that submit through submitit's local executor: a real submission, no SLURM needed."""


def submitted_log(stdout: str) -> Path:
    """The log path a submitting command printed ("submitted job ... log: PATH")."""
    line = next(x for x in stdout.splitlines() if x.startswith("submitted job"))
    return Path(line.split("log: ")[1])


def submits_locally(entry, args: list, out: Path, capsys) -> tuple[dict, str]:
    """Run the entry point `entry` with `args` and LOCAL_JOB: a real submitit submission whose job trains in
    its own process. Checks that the job's log lies under out/slurm and that it left out/checkpoints/last.pt;
    returns (what the job returned, the text of its log)."""
    result = entry.run([*map(str, args), "--output-dir", str(out), *LOCAL_JOB])
    log = submitted_log(capsys.readouterr().out)
    assert log.is_file() and log.is_relative_to(Path(out) / "slurm")
    assert (Path(out) / "checkpoints" / "last.pt").is_file()
    return result, log.read_text()


def assert_same_slurm_request(*entries: tuple) -> None:
    """Each (entry point, its own required args) turns the same launch options into the same SLURM request."""
    from vis.core.launch import slurm_parameters

    options = [*LOCAL_JOB, "--partition", "p", "--account", "a", "--cpus-per-task", "2"]
    requests = [slurm_parameters(entry.parse([*options, *map(str, extra)]).launch) for entry, extra in entries]
    assert all(r == requests[0] for r in requests), requests


def detector_submits_locally(train, evaluate, fast_args: list, out: Path, capsys) -> None:
    """A detection package's train entry point with --nodes (two steps of batch 2 through submitit's local
    executor) and its eval entry point asking for the same SLURM request."""
    result, log = submits_locally(train, [*fast_args, "--stop-after-steps", "2"], out, capsys)
    assert "global batch 2" in log and result["step"] == 2
    assert_same_slurm_request((train, []), (evaluate, ["--checkpoint", Path(out) / "checkpoints" / "last.pt"]))


def detector_two_processes_match_one(script: str, module: str, run, args: list, out: Path, env: dict,
                                     port: int) -> None:
    """Two steps of a detection entry point as 2 gloo processes with one image each against one process with
    two: the logged losses ("loss" is averaged over the ranks) agree to 1e-4 relative, the float32 rounding of
    DDP averaging the gradients in another order."""
    proc = run_script(script, *args, "--stop-after-steps", "2", "--batch-size", "1", "--output-dir", out / "two",
                      env=env, launcher=torchrun(2, module, port))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world size 2 = global batch 2" in proc.stdout + proc.stderr
    run([*map(str, args), "--stop-after-steps", "2", "--batch-size", "2", "--output-dir", str(out / "one")])
    losses = [[r["loss"] for r in map(json.loads, (out / d / "log.jsonl").read_text().splitlines()) if "loss" in r]
              for d in ("one", "two")]
    assert len(losses[0]) == len(losses[1]) == 2
    torch.testing.assert_close(torch.tensor(losses[1]), torch.tensor(losses[0]), rtol=1e-4, atol=0)


def slurm_final_state(job_id: str, timeout: float = 60) -> str:
    """A SLURM job's state in the accounting once it is final (results arrive before accounting catches up);
    for an array job, the distinct states of its elements, sorted and joined by spaces."""
    end, states = time.time() + timeout, set()
    while time.time() < end:
        out = subprocess.run(["sacct", "-j", job_id, "-X", "-n", "-o", "State%40"], capture_output=True, text=True)
        states = {line.strip() for line in out.stdout.splitlines() if line.strip()}  # one per array element
        if states and not states & {"PENDING", "RUNNING", "COMPLETING", "REQUEUED"}:
            break
        time.sleep(1)
    return " ".join(sorted(states))


def slurm_reachable() -> bool:
    """sbatch is installed and a SLURM controller answers."""
    if shutil.which("sbatch") is None:
        return False
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


HEAVY_OPTIONAL = {"av", "pycocotools", "faster-coco-eval", "webdataset", "open-clip-torch", "torch-fidelity",
                  "diffusers", "torchcodec", "decord"}
"""Distributions that belong to other methods' optional extras: no plain method install may pull them."""


def check_installs_alone(package: str, root: Path, tmp_path: Path, code: str, entry: str = "pretrain",
                         own: frozenset[str] = frozenset(), script: str | None = None) -> str:
    """Install vis-core and `package` (e.g. "vis-mocov3") alone: wheels built without the workspace, the locked
    third-party pins of its dependency tree, offline, into a fresh venv. Assert that no other vis distribution
    and no heavy optional dependency came with it, that `<name>-<entry> --help` answers, then run `code`
    in that venv and return its last line of output. `own`: the heavy optional distributions the package
    itself needs (vis-mae-st: av)."""
    import re

    def sh(*cmd, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
        assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
        return proc

    uv = shutil.which("uv")
    assert uv is not None, "uv is not on PATH"
    dist = tmp_path / "dist"
    for pkg in ("vis-core", package):
        sh(uv, "build", "--package", pkg, "--no-sources", "--wheel", "-o", dist, cwd=root)
    lock = tmp_path / "pylock.toml"
    sh(uv, "export", "--package", package, "--no-emit-workspace", "--format", "pylock.toml", "-o", lock, cwd=root)
    venv = tmp_path / "venv"
    py = venv / "bin" / "python"
    sh(uv, "venv", venv, "--python", sys.executable)
    sh(uv, "pip", "install", "--offline", "--python", py, "-r", lock)
    sh(uv, "pip", "install", "--offline", "--python", py, *sorted(dist.glob("*.whl")))
    sh(uv, "pip", "check", "--python", py)
    freeze = sh(uv, "pip", "freeze", "--python", py).stdout.splitlines()
    names = {re.split(r"==| @ ", line)[0].strip().lower() for line in freeze if line.strip()}
    assert {n for n in names if n.startswith("vis-")} == {"vis-core", package}
    assert not names & (HEAVY_OPTIONAL - own), names & HEAVY_OPTIONAL
    short = package.removeprefix("vis-").replace("_", "-")
    assert "--recipe" in sh(venv / "bin" / (script or f"{short}-{entry}"), "--help").stdout
    return sh(py, "-c", code, cwd=tmp_path).stdout.strip().splitlines()[-1]


def trains_alone(package: str, root: Path, tmp_path: Path, train_args: list[str], modules: list[str],
                 entry: str = "pretrain", own: frozenset[str] = frozenset(), script: str | None = None) -> None:
    """`check_installs_alone` for a method package: in the fresh venv, import `modules` (its other entry
    points), run its `entry` command (`<name>-pretrain` by default) with `train_args` in-process to a
    checkpoint, and assert that nothing from other vis packages or heavy optional libraries was imported.
    Skips where uv is missing."""
    import pytest

    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH")
    short = package.removeprefix("vis-").replace("-", "_")
    out = Path(tmp_path) / "run"
    code = (f"import {', '.join(modules)}; from vis.{short}.cli import {entry}; "
            f"{entry}.run({[*map(str, train_args), '--output-dir', str(out)]!r}); "
            + foreign_modules_code(short, own))
    assert check_installs_alone(package, root, tmp_path, code, entry, own, script) == "[]"
    assert (out / "checkpoints" / "last.pt").is_file()


def foreign_modules_code(package: str, own: frozenset[str] = frozenset()) -> str:
    """Python code printing the sorted modules of other vis packages and heavy optional libraries loaded so
    far (append it to code that imports and runs `package`, e.g. "mocov3")."""
    heavy = sorted({"av", "pycocotools", "webdataset", "open_clip", "torch_fidelity"} - set(own))
    return (f"import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {set(heavy)!r} or "
            f"(m.startswith('vis.') and m.split('.')[1] not in {{'core', {package!r}}})))")


def small_shapes(root: Path, val: int = 8) -> Path:
    """A small synthetic COCO-format detection set under `root` (32 train / `val` val images of 128 px), read
    as coco:ROOT: what the detection packages' tests train and evaluate on."""
    from vis.core.data.shapes_coco import write_split

    write_split(root, "train", 32, 128, seed=0)
    write_split(root, "val", val, 128, seed=1)
    return root


@contextlib.contextmanager
def one_torch_thread():
    """One intra-op thread inside: detection steps are many small ops, several times faster that way on a
    loaded 2-core machine (thread contention), and their results do not depend on it."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
