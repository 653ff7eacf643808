"""Named presets for the relgraph-* commands: the paper's CIFAR-10 MLP and ImageNet CNN recipes (graph2nn's
configs) and a tiny CPU sweep on scikit-learn digits.

Paper recipes: SGD with Nesterov momentum 0.9, lr 0.1 with a per-epoch cosine, precise BN over 1,024
samples, 64-node graphs, FLOPs-matched widths. CIFAR-10 MLP: batch 128 on one GPU, weight decay 5e-4, 200
epochs, 5 seeds per graph. ImageNet: batch 256 = 8 GPUs x 32, weight decay 1e-4, 100 epochs, 3 seeds on the
52-graph set. relgraph-train presets use each model's best graph from the paper.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vis.core.config import LaunchOptions
from vis.relgraph.config import AnalyzeConfig, GraphsConfig, RelGraphConfig, SweepConfig

# the best graph of each model (reference section 5: density k / n, p, seed of the repository's tables)
BEST = {"mlp": (0.12800088, 0.12806344, 4), "resnet34": (0.13878426, 0.24500845, 3),
        "resnet34sep": (0.16851519, 0.34255769, 23), "resnet50": (0.31627091, 0.07338844, 8),
        "cnn": (0.17025145, 0.12098299, 13)}
ONE_GPU = LaunchOptions(gpus_per_node=1, cpus_per_task=10, timeout_min=4320)
EIGHT_GPUS = LaunchOptions(gpus_per_node=8, cpus_per_task=10, timeout_min=4320)
CPU = LaunchOptions(gpus_per_node=0, cpus_per_task=2, timeout_min=60)


def cifar10_mlp(cls: type[RelGraphConfig] = RelGraphConfig) -> RelGraphConfig:
    """The 5-layer MLP on CIFAR-10 (3072 -> 512 dense stem, 3 relational layers, 10 classes) on its best graph."""
    density, p, seed = BEST["mlp"]
    return cls(data="cifar10:/datasets/cifar10", output_dir="output/relgraph-mlp-cifar10", model="mlp",
               graph_nodes=64, k=density * 64, p=p, graph_seed=seed, input_size=32, augment=True, epochs=200,
               batch_size=128, blr=0.2, weight_decay=5e-4, precision="fp32", num_workers=4, save_every=50,
               log_every=100, launch=ONE_GPU)


def imagenet(model: str, cls: type[RelGraphConfig] = RelGraphConfig) -> RelGraphConfig:
    """A CNN on ImageNet-1K (224 px, batch 256 = 8 GPUs x 32, lr 0.1) on the model's best graph."""
    density, p, seed = BEST[model]
    return cls(data="imagefolder:/datasets/imagenet", output_dir=f"output/relgraph-{model}-in1k", model=model,
               graph_nodes=64, k=density * 64, p=p, graph_seed=seed, input_size=224, augment=True, epochs=100,
               batch_size=32, blr=0.1, weight_decay=1e-4, precision="bf16", num_workers=10, save_every=10,
               save_every_steps=1000, log_every=100, launch=EIGHT_GPUS)


def tiny(cls: type[RelGraphConfig] = RelGraphConfig) -> RelGraphConfig:
    """The MLP on digits: 16-node graph (k 6, p 0.3), dense stem 3072 -> 64, 3 relational layers
    FLOPs-matched to width 64, 10 epochs of batch 128 at lr 0.1, no augmentation, on CPU."""
    return cls(data="digits", output_dir="output/relgraph-tiny-train", model="mlp", graph_nodes=16, k=6.0, p=0.3,
               graph_seed=0, base_width=64, input_size=32, augment=False, epochs=10, batch_size=128, blr=0.2,
               weight_decay=5e-4, precision="fp32", num_workers=0, save_every=10, log_every=20, device="cpu",
               launch=CPU)


TRAIN_RECIPES: dict[str, Callable[[], RelGraphConfig]] = {
    "tiny": tiny, "mlp-cifar10": cifar10_mlp,
    **{f"{m}-in1k": partial(imagenet, m) for m in ("resnet34", "resnet34sep", "resnet50", "cnn")},
}


def sweep_tiny() -> SweepConfig:
    """The tiny recipe on each of the 12 graphs of the `tiny` set (the complete graph among them), 2 seeds:
    24 runs in output/relgraph-tiny."""
    cfg = tiny(SweepConfig)
    cfg.graphs, cfg.seeds, cfg.output_dir = "tiny", 2, "output/relgraph-tiny"
    return cfg


def sweep_paper(model: str, graphs: str, seeds: int) -> SweepConfig:
    cfg = cifar10_mlp(SweepConfig) if model == "mlp" else imagenet(model, SweepConfig)
    cfg.graphs, cfg.seeds, cfg.output_dir = graphs, seeds, f"output/relgraph-sweep-{model}-{graphs}"
    return cfg


SWEEP_RECIPES: dict[str, Callable[[], SweepConfig]] = {
    "tiny": sweep_tiny,
    **{f"mlp-cifar10-{s}": partial(sweep_paper, "mlp", f"n64-{s}", 5) for s in (52, 449, 3942)},
    **{f"{m}-in1k-52": partial(sweep_paper, m, "n64-52", 3) for m in ("resnet34", "resnet34sep", "resnet50", "cnn")},
}

GRAPHS_RECIPES: dict[str, Callable[[], GraphsConfig]] = {
    "tiny": lambda: GraphsConfig(graphs="tiny", output="output/relgraph-graphs-tiny.csv"),
    **{s: partial(GraphsConfig, graphs=s, output=f"output/relgraph-graphs-{s}.csv", workers=64, num_workers=0,
                  launch=LaunchOptions(nodes=None, gpus_per_node=0, cpus_per_task=64, timeout_min=600))
       for s in ("n64-3942", "n64-449", "n64-52", "n16-2698", "n16-326", "n16-48")},
}

ANALYZE_RECIPES: dict[str, Callable[[], AnalyzeConfig]] = {
    "tiny": lambda: AnalyzeConfig(results="output/relgraph-tiny", bins=8, c_band=(0.3, 0.6), l_band=(1.5, 2.5)),
    "paper-52": lambda: AnalyzeConfig(bins=15),
    "paper-3942": lambda: AnalyzeConfig(bins=135),
}
