"""Entry points and paper recipes: every preset parses, validates, and maps onto SLURM as documented."""

import pytest

from vis.core.cli import parse
from vis.core.launch import slurm_parameters
from vis.core.testing import run_script
from vis.mae.config import PretrainConfig
from vis.mae.recipes import PRETRAIN_RECIPES as RECIPES


def test_help_lists_recipes_and_launch_options():
    proc = run_script("mae-pretrain", "--help")
    assert proc.returncode == 0
    for word in ("vit-large-in1k-800ep", "tiny", "--nodes", "--gpus-per-node", "--partition", "--timeout-min"):
        assert word in proc.stdout


@pytest.mark.parametrize("name", [r for r in RECIPES if r != "tiny"])
def test_paper_recipes_match_the_paper_on_8_nodes(tmp_path, name):
    args = ["--recipe", name, "--data", f"imagefolder:{tmp_path}", "--nodes", "8", "--gpus-per-node", "8",
            "--partition", "learnfair"]
    cfg = parse(PretrainConfig, RECIPES, args)
    world = cfg.launch.nodes * cfg.launch.gpus_per_node
    assert cfg.batch_size * cfg.accum_iter * world == 4096
    assert cfg.blr == 1.5e-4 and cfg.blr * 4096 / 256 == pytest.approx(2.4e-3)
    assert (cfg.weight_decay, cfg.warmup_epochs, cfg.mask_ratio, cfg.norm_pix_loss) == (0.05, 40, 0.75, True)
    assert cfg.epochs in (800, 1600) and str(cfg.epochs) in name
    assert (cfg.decoder.decoder_embed_dim, cfg.decoder.decoder_depth, cfg.decoder.decoder_num_heads) == (512, 8, 16)
    assert cfg.crop_min_scale == 0.2 and cfg.input_size == 224
    params = slurm_parameters(cfg.launch)
    assert params["nodes"] == 8 and params["tasks_per_node"] == 8 and params["gpus_per_node"] == 8
    assert params["slurm_partition"] == "learnfair"
