"""The paper's recipes as presets (reference section 4): global batch, lr rule, schedule in samples, mask
ratios, model shapes, and the SLURM mapping on 32 nodes of 8 GPUs."""

import pytest

from vis.core.launch import slurm_parameters
from vis.flip.cli import pretrain
from vis.flip.recipes import PRETRAIN_RECIPES, SIZES


def parse(tmp_path, name, *extra):
    return pretrain.parse(["--recipe", name, "--data", f"wds:{tmp_path}/0.tar", "--nodes", "32", *extra])


@pytest.fixture
def shard(tmp_path):
    (tmp_path / "0.tar").write_bytes(b"")
    (tmp_path / "last.pt").write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize("name", [r for r in PRETRAIN_RECIPES if r.startswith("vit-")])
def test_paper_recipes(shard, name):
    extra = ["--finetune", str(shard / "last.pt")] if "tuning" in name else []
    cfg = parse(shard, name, *extra)
    world = cfg.launch.nodes * cfg.launch.gpus_per_node
    batch = cfg.batch_size * cfg.accum_iter * world
    samples = cfg.epochs * cfg.samples_per_epoch
    vit, text, dim = SIZES[name.split("-")[1]]
    assert (cfg.vit, cfg.model.proj_dim, cfg.text.text_width, cfg.text.text_depth) == (
        vit, dim, text.text_width, text.text_depth)
    assert cfg.betas == (0.9, 0.95) and cfg.weight_decay == 0.2 and cfg.crop_min_scale == 0.5 and cfg.hflip
    assert cfg.text.context_length == 32 and not cfg.text.causal and cfg.text.text_pool == "first"
    assert cfg.model.image_pool == "avg" and not cfg.model.ln_pre and cfg.model.image_pos_embed == "sincos"
    if "ablation" in name:
        ratio = int(name.split("mask")[1]) / 100
        assert cfg.mask_ratio == ratio and batch == {0.0: 16384, 0.5: 32768, 0.75: 65536}[ratio]
        assert samples == 2_560_000_000  # 6.4 epochs of LAION-400M
    elif "tuning" in name:
        assert cfg.mask_ratio == 0 and batch == 65536 and samples == 128_000_000 and cfg.blr == 4e-8
        assert cfg.warmup_epochs * cfg.samples_per_epoch == 25_600_000
    else:
        assert cfg.mask_ratio == 0.5 and batch == 65536 and samples == 12_800_000_000 and cfg.blr == 4e-6
        warmup = 256_000_000 if "h14" in name else 51_200_000
        assert cfg.warmup_epochs * cfg.samples_per_epoch == pytest.approx(warmup)
        assert cfg.blr * batch / 256 == pytest.approx(1.024e-3)
    params = slurm_parameters(cfg.launch)
    assert params["nodes"] == 32 and params["tasks_per_node"] == 8 and params["gpus_per_node"] == 8
