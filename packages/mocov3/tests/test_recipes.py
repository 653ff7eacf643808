"""The paper's presets (official CONFIG.md) as they reach a cluster: every recipe parses, validates and gives
the documented global batch, learning rate and hyper-parameters on the documented number of GPUs."""

import pytest

from vis.core.launch import slurm_parameters
from vis.mocov3.cli import linprobe, pretrain
from vis.mocov3.recipes import LINPROBE_RECIPES, PRETRAIN_RECIPES

PAPER = [r for r in PRETRAIN_RECIPES if not r.startswith("tiny")]


@pytest.mark.parametrize("name", PAPER)
def test_pretraining_presets_on_8_nodes_of_8_gpus(tmp_path, name):
    cfg = pretrain.parse(["--recipe", name, "--data", f"imagefolder:{tmp_path}", "--nodes", "8"])
    global_batch = cfg.batch_size * cfg.accum_iter * cfg.launch.nodes * cfg.launch.gpus_per_node
    assert global_batch == 4096 and slurm_parameters(cfg.launch)["tasks_per_node"] == 8
    if name.startswith("vit"):
        assert (cfg.optimizer, cfg.blr, cfg.weight_decay, cfg.warmup_epochs) == ("adamw", 1.5e-4, 0.1, 40)
        assert cfg.epochs == 300
        assert cfg.blr * global_batch / 256 == pytest.approx(2.4e-3)
        assert (cfg.temperature, cfg.moco_m, cfg.crop_min_scale, cfg.mlp_dim, cfg.dim) == (0.2, 0.99, 0.08, 4096, 256)
        assert cfg.stop_grad_conv1 != cfg.conv_stem and cfg.vit.num_heads == 12
        assert cfg.vit.depth == (11 if "conv" in name else 12)
    else:
        epochs = int(name.split("-")[1].removesuffix("ep"))
        blr, wd, m0 = {100: (0.6, 1e-6, 0.99), 300: (0.3, 1e-6, 0.99), 1000: (0.3, 1.5e-6, 0.996)}[epochs]
        assert (cfg.arch, cfg.optimizer, cfg.epochs, cfg.warmup_epochs) == ("resnet", "lars", epochs, 10)
        assert (cfg.blr, cfg.weight_decay, cfg.moco_m) == (blr, wd, m0)
        assert (cfg.temperature, cfg.crop_min_scale) == (1.0, 0.2)
        assert cfg.resnet.resnet_depth == 50 and cfg.resnet.resnet_width == 64
    assert cfg.moco_m_cos and cfg.min_lr == 0


@pytest.mark.parametrize("name", [r for r in LINPROBE_RECIPES if not r.startswith("tiny")])
def test_linear_probe_presets_on_one_node_of_8_gpus(tmp_path, name):
    ckpt = tmp_path / "pretrained.pth.tar"
    ckpt.write_bytes(b"")
    cfg = linprobe.parse(["--recipe", name, "--data", f"imagefolder:{tmp_path}", "--finetune", str(ckpt),
                          "--nodes", "1"])
    assert cfg.batch_size * cfg.launch.gpus_per_node == 1024 and cfg.epochs == 90
    assert (cfg.optimizer, cfg.lr_schedule, cfg.head, cfg.train_crop) == ("sgd", "epoch", "linear", "torchvision")
    assert cfg.weight_decay == 0 and cfg.warmup_epochs == 0 and cfg.precision == "fp32"
    assert cfg.blr * 1024 / 256 == pytest.approx(0.4 if name == "r50" else 12.0)
