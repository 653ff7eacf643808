"""Learning, through the real entry points on the persistent-shapes MP4s (decoded by the real path), where
only the object's pattern persists over time and every cut repaints the rest:
BYOL with rho = 2 clips per video beats BYOL with rho = 1 (the baseline, measured in the same test) on the
linear probe, the paper's direction. Both pre-train with the tiny recipe; the runs go side by side, one
process per core. The full study (every objective against a random-initialised backbone, rho = 1 against 2
over four seeds) is benchmarks/rho_tiny_study.py; its numbers are in docs/rho.md."""

import json
import os
import subprocess
from pathlib import Path

from vis.core.testing import BIN

PROBE_EPOCHS = 10


def _side_by_side(command: str, data: str, runs: dict[Path, list]) -> None:
    """Run `command --recipe tiny` once per output folder at the same time, each on one thread."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = {out: subprocess.Popen([str(BIN / command), "--recipe", "tiny", "--data", data, "--num-workers", "1",
                                    "--log-every", "50", "--output-dir", str(out), *map(str, args)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for out, args in runs.items()}
    for out, proc in procs.items():
        assert proc.wait(timeout=600) == 0, f"{out.name}: {proc.stderr.read()[-2000:]}"


def _final_probe(out: Path) -> dict:
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "top1" in r][-1]


def test_byol_rho2_beats_rho1_on_the_linear_probe(tmp_path, shapes):
    pre = {rho: tmp_path / f"byol-rho{rho}" for rho in (2, 1)}
    _side_by_side("rho-pretrain", shapes, {out: ["--method", "byol", "--rho", rho] for rho, out in pre.items()})
    probes = {"byol-rho2": pre[2], "byol-rho1": pre[1]}
    _side_by_side("rho-linprobe", shapes, {
        tmp_path / f"probe-{name}": ["--epochs", PROBE_EPOCHS, "--eval-every", PROBE_EPOCHS,
                                     "--finetune", ckpt / "checkpoints" / "last.pt"] for name, ckpt in probes.items()})
    final = {name: _final_probe(tmp_path / f"probe-{name}") for name in probes}
    assert all(r["videos"] == 180 and r["views_per_video"] == 3 for r in final.values())
    top1 = {name: r["top1"] for name, r in final.items()}
    print("linear probe top-1:", {k: round(v, 1) for k, v in top1.items()})
    assert top1["byol-rho2"] >= top1["byol-rho1"] + 5
