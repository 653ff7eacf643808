"""relgraph-train: one network whose layers exchange messages along one relational graph (You, Leskovec, He
and Xie, 2020, sections 2 to 4).

Each relational layer splits its channels into as many groups as the graph has nodes; an output group reads
the input groups of its neighbours and itself, so the weight is masked block-wise by the adjacency with
self-loops (the complete graph is the dense layer). The width is chosen so that the masked multiply-adds
match the dense model's (FLOPs matching). Training: SGD with Nesterov momentum 0.9, a per-epoch cosine,
weight decay on every parameter, BatchNorm statistics recomputed over 1,024 training samples (precise BN)
before each evaluation; the result is the final epoch's top-1 error, written with the graph's C and L,
width, parameters and MACs to <output-dir>/result.json.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import torch
import torch.nn as nn

from vis.core.data import SeededDataset, parse_data_spec
from vis.core.data.skips import SkipCount, read_batch
from vis.core.data.transforms import center_crop, pad_crop_flip, random_resized_crop_flip, resize_only
from vis.core.dist import start_run
from vis.core.engine import Task, Trainer
from vis.core.eval.classification import evaluate_classifier
from vis.core.optim import uniform_groups
from vis.relgraph.config import RelGraphConfig
from vis.relgraph.graphs import GraphRow, complete_row
from vis.relgraph.layers import masked_macs
from vis.relgraph.models import build_model, matched_width

log = logging.getLogger("vis")


def graph_row(cfg: RelGraphConfig) -> GraphRow:
    """The graph the options name (the complete graph without --k)."""
    if cfg.k is None:
        return complete_row(cfg.graph_nodes)
    return GraphRow(cfg.graph_nodes, cfg.k / cfg.graph_nodes, cfg.p, cfg.graph_seed)


def transforms(cfg: RelGraphConfig) -> tuple[Any, Any]:
    """(train, eval): pad-4 crops and flips at small sizes (CIFAR), random resized crops above (ImageNet)."""
    small = cfg.input_size <= 64
    evaluation = resize_only(cfg.input_size) if small else center_crop(cfg.input_size)
    if not cfg.augment:
        return evaluation, evaluation
    train = pad_crop_flip(cfg.input_size) if small else random_resized_crop_flip(cfg.input_size, (0.08, 1), True)
    return train, evaluation


@torch.no_grad()
def precise_bn(model: nn.Module, dataset, transform, samples: int, batch_size: int, device: torch.device,
               skips: SkipCount) -> None:
    """Replace every BatchNorm's running statistics by their average over the first `samples` training
    samples (fvcore's update_bn_stats), in train mode, as pycls does before testing. Unreadable samples are
    left out, named and counted in `skips`."""
    from fvcore.nn.precise_bn import update_bn_stats

    idx = list(range(min(samples, len(dataset))))
    batches = [idx[s : s + batch_size] for s in range(0, len(idx), batch_size)]

    def readable():
        for b in batches:
            x, _, ok, bad = read_batch(dataset, b, transform)
            skips.add(int(ok.sum()), bad)
            yield x[ok].to(device)

    was_training = model.training
    model.train()
    update_bn_stats(model, readable(), len(batches))
    model.train(was_training)
    skips.report()


def main(cfg: RelGraphConfig) -> dict[str, Any]:
    ctx = start_run(cfg.device, cfg.seed)
    spec = parse_data_spec(cfg.data)
    train_raw, val_raw = spec.dataset("train"), spec.dataset("val")
    classes = train_raw.num_classes
    row = graph_row(cfg).with_measures()
    adj = row.adjacency()
    width = cfg.width or matched_width(cfg.model, adj, classes, cfg.input_size, cfg.base_width)
    model = build_model(cfg.model, width, adj, classes, cfg.input_size, cfg.base_width)
    macs = masked_macs(model, (3, cfg.input_size, cfg.input_size))
    params = sum(p.numel() for p in model.parameters())
    log.info(f"{cfg.model} on graph n {row.n} k {row.density * row.n:.2f} p {row.p:.4f} seed {row.seed} "
             f"(C {row.C:.4f}, L {row.L:.4f}): width {width}, {macs / 1e6:.3f} M MACs, {params / 1e6:.3f} M params")
    train_tf, eval_tf = transforms(cfg)
    epoch_start = [time.time()]

    def evaluate(epoch: int, m: nn.Module) -> dict[str, float]:
        if cfg.precise_bn_samples:
            precise_bn(m, train_raw, train_tf, cfg.precise_bn_samples, cfg.eval_batch_size, ctx.device,
                       SkipCount(cfg.max_skipped_fraction, cfg.data, "precise BN"))
        r = evaluate_classifier(m, val_raw, eval_tf, cfg.eval_batch_size, ctx,
                                SkipCount(cfg.max_skipped_fraction, cfg.data, "evaluation"))
        seconds, epoch_start[0] = time.time() - epoch_start[0], time.time()
        return {"top1_err": 100 - r["top1"], "top5_err": 100 - r["top5"], "epoch_time": seconds}

    task = Task(
        model=model, train_data=SeededDataset(train_raw, train_tf, cfg.seed),
        forward=lambda m, b: {"loss": nn.functional.cross_entropy(m(b["image"]), b["label"])},
        param_groups=lambda m: uniform_groups(m, cfg.weight_decay), optimizer="sgd", nesterov=True,
        lr_schedule="epoch", evaluate=evaluate,
    )
    trainer = Trainer(cfg, task, ctx)
    result = trainer.fit()
    if trainer.stopped or trainer.epoch < cfg.epochs or "top1_err" not in result:
        return result
    record = {"model": cfg.model, "graph": {**vars(row), "k": row.density * row.n, "key": row.key},
              "seed": cfg.seed, "epochs": cfg.epochs, "width": width, "macs": macs, "params": params,
              "top1_err": result["top1_err"], "top5_err": result["top5_err"],
              "top1_err_per_epoch": epoch_errors(trainer.out)}
    if ctx.is_main:
        tmp = trainer.out / "result.json.tmp"
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(trainer.out / "result.json")
        log.info(f"final top-1 error {record['top1_err']:.2f}% -> {trainer.out / 'result.json'}")
    return {**result, **record}


def epoch_errors(out) -> list[float]:
    """The top-1 error after each epoch, from the run's log (a resumed run logged each epoch once)."""
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]
    by_epoch = {r["epoch"]: r["top1_err"] for r in records if "top1_err" in r}
    return [by_epoch[e] for e in sorted(by_epoch)]


if __name__ == "__main__":  # python -m vis.relgraph.train (torchrun)
    from vis.relgraph import cli

    cli.train.cli()
