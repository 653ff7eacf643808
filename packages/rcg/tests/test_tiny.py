"""The tiny recipes through the real commands (in this process): RDM training lowers the representation
Frechet distance of its samples; the pixel generator, rcg-sample and rcg-eval run end to end and write what
they promise."""

import json

import pytest
import torch

from vis.rcg import cli

RDM_ARGS = ["--rdm-depth", "2", "--rdm-width", "128", "--epochs", "4", "--fd-every", "1", "--fd-samples", "200",
            "--sample-steps", "25", "--log-every", "11"]
PIXEL_ARGS = ["--epochs", "1", "--batch-size", "128", "--log-every", "11",
              "--num-figures", "4", "--sample-steps", "10"]


def records(out, key):
    return [r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if key in r]


@pytest.fixture(scope="session")
def rdm_run(tmp_path_factory, encoder_file):
    out = tmp_path_factory.mktemp("rdm")
    cli.train_rdm.run(["--recipe", "tiny", "--encoder", str(encoder_file), "--output-dir", str(out), *RDM_ARGS])
    return out


@pytest.fixture(scope="session")
def pixel_run(tmp_path_factory, encoder_file):
    out = tmp_path_factory.mktemp("pixel")
    cli.train_pixel.run(["--recipe", "tiny", "--encoder", str(encoder_file), "--output-dir", str(out),
                         "--resume", "none", *PIXEL_ARGS])
    return out


def test_rdm_samples_move_towards_the_real_representations(rdm_run):
    fd = [r["rep_fd"] for r in records(rdm_run, "rep_fd")]
    assert len(fd) == 4
    # the first value is after one epoch (EMA still close to the zero-output init); measured: 2.3 -> 0.4
    assert fd[-1] < fd[0] / 2, fd
    floor = records(rdm_run, "rep_fd_floor")[-1]["rep_fd_floor"]
    assert floor < fd[-1]  # two real sets are closer than generated and real
    assert (rdm_run / "checkpoints" / "last.pt").is_file()


def test_constant_lr_is_blr_times_batch(rdm_run):
    lrs = [r["lr/all"] for r in records(rdm_run, "lr/all")]
    assert len(lrs) >= 4 and all(lr == pytest.approx(1e-5 * 128) for lr in lrs)  # blr x batch, never / 256


def test_sample_and_eval_through_the_commands(rdm_run, pixel_run, encoder_file, tmp_path):
    figure = pixel_run / "figures" / "reconstructions.png"
    assert figure.is_file()
    out = tmp_path / "samples"
    args = ["--recipe", "tiny", "--rdm", str(rdm_run / "checkpoints" / "last.pt"), "--pixel",
            str(pixel_run / "checkpoints" / "last.pt"), "--output-dir", str(out), "--num-samples", "6",
            "--batch-size", "4", "--rdm-steps", "10", "--pixel-steps", "10", "--grid", "4"]
    result = cli.sample.run(args)
    pngs = sorted((out / "images").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(6)]
    assert (out / "samples.png").is_file() and result["num_samples"] == 6
    first = (out / "images" / "000003.png").read_bytes()
    # the same sample whatever the batching: sample i is seeded by its index
    cli.sample.run([*args, "--batch-size", "6", "--force"])
    assert (out / "images" / "000003.png").read_bytes() == first
    ev = cli.evaluate.run(["--recipe", "tiny", "--samples", str(out / "images"), "--encoder", str(encoder_file),
                           "--output-dir", str(out), "--max-real", "100"])
    saved = json.loads((out / "eval.json").read_text())
    assert saved["rep_fd"] == ev["rep_fd"] > 0 and saved["samples"] == 6 and saved["real"] == 100


def test_pixel_checkpoint_holds_ema_and_fake_latent(pixel_run):
    state = torch.load(pixel_run / "checkpoints" / "last.pt", weights_only=True)
    keys = state["model"].keys()
    assert "fake_latent" in keys and "ema.module.fake_latent" in keys and "ema.num_updates" in keys
    assert int(state["model"]["ema.num_updates"]) == 11  # one epoch of 1437 // 128 steps
