"""Shared by the MAE-ST tests: the moving-shapes MP4s (written once per session) and one tiny pre-training,
fine-tuning and frame-shuffled control run, each through its real entry point in this process."""

import json
from pathlib import Path

import pytest

from vis.core.data.moving_shapes import generate

FAST = ["--num-workers", "2", "--log-every", "5"]


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def shapes(tmp_path_factory) -> str:
    return f"moving-shapes:{generate(tmp_path_factory.mktemp('data') / 'shapes')}"


@pytest.fixture(scope="session")
def runs(shapes, tmp_path_factory) -> dict[str, Path]:
    """Tiny pre-training (2 loader epochs x R 2), then fine-tuning from it and the same fine-tuning with the
    frames of every clip shuffled (train and val)."""
    from vis.mae_st.cli import finetune, pretrain

    root = tmp_path_factory.mktemp("runs")
    pretrain.run(["--data", shapes, "--epochs", "2", "--output-dir", root / "pre", *FAST])
    ckpt = root / "pre" / "checkpoints" / "last.pt"
    # fewer epochs than the tiny recipe, and without mixup / RandAugment / erasing, to fit the test budget
    args = ["--data", shapes, "--finetune", ckpt, "--epochs", "6", "--batch-size", "8", "--warmup-epochs", "0.5",
            "--blr", "2e-2", "--mixup", "0", "--cutmix", "0", "--aa", "None", "--reprob", "0", *FAST]
    finetune.run([*args, "--output-dir", root / "ft"])
    finetune.run([*args, "--shuffle-frames", "--output-dir", root / "control"])
    return {"pre": root / "pre", "ft": root / "ft", "control": root / "control"}
