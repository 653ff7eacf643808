"""Learning, through the real entry points on the persistent-shapes MP4s (decoded by the real path):
rho-SimCLR (rho = 2) pre-trained for half the tiny recipe's epochs, then probed by rho-linprobe, beats the same
probe on a random-initialised backbone measured in the same test. The full study (every objective, rho = 1
against 2, 20 + 20 epochs) is benchmarks/rho_tiny_study.py; its numbers are in docs/rho.md."""

from vis.rho.cli import linprobe, pretrain

PRETRAIN_EPOCHS, PROBE_EPOCHS = 10, 5


def test_simclr_pretraining_beats_random_init_on_the_linear_probe(tmp_path, shapes, in_process):
    fast = ["--data", shapes, "--num-workers", "2", "--log-every", "10"]
    pre = tmp_path / "pre"
    in_process(pretrain.run, *fast, "--method", "simclr", "--rho", "2", "--epochs", PRETRAIN_EPOCHS,
               "--warmup-epochs", "1", "--output-dir", pre)
    probe = [*fast, "--epochs", PROBE_EPOCHS, "--eval-every", PROBE_EPOCHS]
    learned, _ = in_process(linprobe.run, *probe, "--finetune", pre / "checkpoints" / "last.pt",
                            "--output-dir", tmp_path / "probe")
    random, _ = in_process(linprobe.run, *probe, "--output-dir", tmp_path / "random")
    print(f"linear probe top-1: SimCLR rho 2 {learned['top1']:.1f}, random init {random['top1']:.1f}")
    assert learned["videos"] == random["videos"] == 60 and learned["views_per_video"] == 3
    assert learned["top1"] >= random["top1"] + 10
