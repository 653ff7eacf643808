"""The paper's presets as they reach a cluster: every recipe parses, validates and gives the documented
global batch, learning rate and hyper-parameters on one node of 8 GPUs."""

import pytest

from vis.simsiam.cli import linprobe, pretrain


@pytest.mark.parametrize("epochs", [100, 200, 400, 800])
def test_pretraining_presets_on_one_node_of_8_gpus(tmp_path, epochs):
    cfg = pretrain.parse(["--recipe", f"r50-{epochs}ep", "--data", f"imagefolder:{tmp_path}", "--nodes", "1"])
    global_batch = cfg.batch_size * cfg.accum_iter * cfg.launch.gpus_per_node
    assert global_batch == 512 and cfg.blr * global_batch / 256 == pytest.approx(0.1)  # lr 0.1 at 512
    assert (cfg.epochs, cfg.warmup_epochs, cfg.weight_decay, cfg.precision) == (epochs, 0, 1e-4, "fp32")
    assert cfg.fix_pred_lr and cfg.stop_gradient and (cfg.dim, cfg.pred_dim) == (2048, 512)
    assert cfg.resnet.resnet_depth == 50 and cfg.crop_min_scale == 0.2 and cfg.input_size == 224


def test_linear_probe_preset_uses_larc_at_lr_1_6(tmp_path):
    ckpt = tmp_path / "checkpoint_0099.pth.tar"
    ckpt.write_bytes(b"")
    cfg = linprobe.parse(["--recipe", "r50-in1k", "--data", f"imagefolder:{tmp_path}", "--finetune", str(ckpt),
                          "--nodes", "1"])
    global_batch = cfg.batch_size * cfg.launch.gpus_per_node
    assert global_batch == 4096 and cfg.blr * global_batch / 256 == pytest.approx(1.6)
    assert (cfg.optimizer, cfg.lr_schedule, cfg.head) == ("larc", "epoch", "linear")
    assert cfg.epochs == 90 and cfg.weight_decay == 0
