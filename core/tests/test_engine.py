"""The training loop: non-finite loss, unreadable samples, mixed precision, checkpoint atomicity."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from PIL import Image

from vis.core import checkpoint as ckpt
from vis.core.config import TrainConfig
from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.transforms import random_resized_crop_flip
from vis.core.dist import DistContext
from vis.core.engine import Task, Trainer
from vis.core.errors import RunError, UserError
from vis.core.optim import param_groups


class Probe(nn.Module):
    """A linear classifier whose loss becomes NaN from a given step on."""

    def __init__(self, nan_from: int | None = None):
        super().__init__()
        self.fc = nn.Linear(3 * 8 * 8, 10)
        self.nan_from, self.calls = nan_from, 0

    def forward(self, x, y):
        self.calls += 1
        loss = nn.functional.cross_entropy(self.fc(x.flatten(1)), y)
        return loss * float("nan") if self.nan_from and self.calls >= self.nan_from else loss


def make_trainer(tmp_path, data="digits", model=None, **cfg_kw) -> Trainer:
    options = dict(output_dir=str(tmp_path), epochs=1, batch_size=32, num_workers=0, blr=1e-2, log_every=1,
                   save_every_steps=1, data=data, device="cpu")
    cfg = replace(TrainConfig(), **{**options, **cfg_kw})
    cfg.validate()
    spec = parse_data_spec(data)
    model = model or Probe()
    task = Task(model=model, train_data=SeededDataset(spec.dataset("train"), random_resized_crop_flip(8), 0),
                forward=lambda m, b: {"loss": m(b["image"], b["label"])},
                param_groups=lambda m: param_groups(m, 0.0))
    return Trainer(cfg, task, DistContext())


def test_non_finite_loss_stops_without_touching_the_last_good_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path, model=Probe(nan_from=4))
    with pytest.raises(RunError, match="loss is nan"):
        trainer.fit()
    state = ckpt.load(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 3 and torch.isfinite(state["model"]["fc.weight"]).all()


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_run_and_learn(tmp_path, precision):
    trainer = make_trainer(tmp_path, precision=precision, stop_after_steps=8)
    trainer.fit()
    losses = [json.loads(x)["loss"] for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(losses) == 8 and all(map(lambda v: v == v, losses))
    assert ckpt.load(tmp_path / "checkpoints" / "last.pt")["scaler"] is not None


def _image_folder(root: Path, n_good: int, bad: list[str]) -> None:
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(n_good):
            Image.new("RGB", (12, 12), (i * 9, 40, 200 if c == "a" else 10)).save(root / c / f"{i}.png")
    for name in bad:
        (root / "a" / name).write_bytes(b"\x89PNG\r\n\x1a\n broken")


def test_unreadable_images_are_skipped_counted_and_named(tmp_path, caplog):
    _image_folder(tmp_path / "imgs", 40, ["corrupt.png"])
    trainer = make_trainer(tmp_path / "out", data=f"imagefolder:{tmp_path / 'imgs'}", max_skipped_fraction=0.05,
                           batch_size=27)
    trainer.fit()
    assert trainer.samples_skipped == 1 and trainer.samples_seen == 81  # three steps of 27 see every image
    assert "corrupt.png" in caplog.text


def test_too_many_unreadable_images_stop_the_run(tmp_path):
    _image_folder(tmp_path / "imgs", 10, [f"bad{i}.png" for i in range(12)])
    trainer = make_trainer(tmp_path / "out", data=f"imagefolder:{tmp_path / 'imgs'}", max_skipped_fraction=0.1)
    with pytest.raises(RunError, match="unreadable"):
        trainer.fit()


def test_interrupted_checkpoint_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ckpt.save_atomic({"step": 1}, path)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        ckpt.save_atomic({"step": 2}, path)
    assert ckpt.load(path)["step"] == 1 and not list(tmp_path.glob("*.tmp"))


def test_unwritable_output_folder_fails_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    trainer = make_trainer(blocker / "out")
    with pytest.raises(UserError, match="not writable"):
        trainer.fit()
