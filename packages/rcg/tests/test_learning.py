"""The pixel generator learns to draw the digit whose representation it is given: rcg-train-pixel on digits
(the tests' random tiny encoder, whose representations put 73% of val digits next to a train digit of their
class), then samples conditioned on val representations, judged by a logistic regression trained on real
digits. Control in the same test: the same samples with the representations shuffled among the images."""

import numpy as np
import torch

from vis.rcg import cli
from vis.rcg.encoder import load_encoder
from vis.rcg.sample import load_generator
from vis.rcg.stages import index_generators

from .digits_check import classifier, digits, features

# the tiny recipe (lr 5e-3 = blr 2e-2 x 64 / 256) for 30 of its 120 epochs (660 steps)
ARGS = ["--recipe", "tiny", "--epochs", "30", "--log-every", "100", "--num-figures", "2"]


def test_samples_conditioned_on_val_representations_are_their_digits(tmp_path, encoder_file):
    cli.train_pixel.run([*ARGS, "--encoder", str(encoder_file), "--output-dir", str(tmp_path)])
    gen, cfg = load_generator(str(tmp_path / "checkpoints" / "last.pt"))
    clf, real_acc = classifier(cfg.input_size)
    images, labels = digits("val", cfg.input_size)
    n = 200
    reps = load_encoder(str(encoder_file))(images[:n])
    gens = lambda: index_generators(0, torch.arange(n))
    fake = gen.sample(reps, 50, 1.0, 1.0, gens())  # DDIM 50, eta 1, guidance 1
    acc = float((clf.predict(features(fake)) == labels[:n]).mean())
    perm = torch.from_numpy(np.random.default_rng(0).permutation(n))
    control = float((clf.predict(features(gen.sample(reps[perm], 50, 1.0, 1.0, gens()))) == labels[:n]).mean())
    print(f"digits classifier on conditioned samples: {acc:.3f} (shuffled representations {control:.3f}, "
          f"real val digits {real_acc:.3f}, chance 0.100)")
    # measured: 0.265 conditioned, 0.095 shuffled (0.25 in a one-thread run); chance 0.10 has a binomial sd of 0.021
    assert acc > 0.15 and acc > control + 0.05
