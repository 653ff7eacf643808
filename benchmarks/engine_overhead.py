"""What the vis-core Trainer costs per step: the tiny MAE recipe trained by the Trainer against a bare
hand-written loop over the same model, data, loader, optimizer and lr schedule, in the same process.
Rounds alternate (bare, Trainer, bare, ...) and the median of each is reported. Goal: Trainer / bare step
time at most 1.05 on CPU (1.03 on a GPU).

    uv run python benchmarks/engine_overhead.py [--epochs 4] [--rounds 3] [--device cpu|cuda]

Time runs from the end of the first optimizer step to the end of the last one (set-up, output folder and
the loader's first batch are left out of both). The Trainer's time includes everything it does between
steps: lr per iteration, the batched non-finite / preemption checks, logging every --log-every steps and
last.pt at each epoch end. Both loops start from the same seed, so their final weights are compared too
(equal weights: the same work was done).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time

import torch

from vis.core.data import SeededDataset, ShardedBatchSampler, make_loader, parse_data_spec
from vis.core.data.transforms import random_resized_crop_flip
from vis.core.dist import DistContext, seed_everything
from vis.core.engine import Task, Trainer
from vis.core.models import per_sample_noise
from vis.core.optim import effective_lr, param_groups, warmup_cosine
from vis.mae.cli import pretrain
from vis.mae.pretrain import build_model


def forward(model, batch):
    return model(batch["image"], noise=per_sample_noise(batch["seed"], model.num_patches, batch["image"].device))


def bare_loop(cfg, data, device) -> tuple[float, int, dict]:
    seed_everything(cfg.seed)
    model = build_model(cfg).to(device).train()
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=0.0, betas=(0.9, 0.95))
    sampler = ShardedBatchSampler(len(data), cfg.batch_size, seed=cfg.seed)
    sampler.set_epoch(0, 0, epochs=cfg.epochs)
    per_epoch = sampler.batches_per_epoch()
    base_lr = effective_lr(cfg.blr, cfg.lr, cfg.batch_size)
    stamps = []
    for i, batch in enumerate(make_loader(data, sampler, cfg.num_workers)):
        lr = warmup_cosine(i / per_epoch, base_lr, cfg.min_lr, cfg.warmup_epochs, cfg.epochs)
        for g in opt.param_groups:
            g["lr"] = lr
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items() if torch.is_tensor(v)}
        forward(model, batch)["loss"].backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        stamps.append(_now(device))
    return stamps, model.state_dict()


def trainer_loop(cfg, data, device) -> tuple[float, int, dict]:
    seed_everything(cfg.seed)
    model = build_model(cfg)
    with tempfile.TemporaryDirectory() as out:
        cfg.output_dir = out
        stamps = []
        task = Task(model=model, train_data=data, forward=forward, optimizer="adamw", betas=(0.9, 0.95),
                    param_groups=lambda m: param_groups(m, cfg.weight_decay),
                    after_step=lambda step, epoch: stamps.append(_now(device)))
        trainer = Trainer(cfg, task, DistContext(device=device))
        trainer.fit()
        return stamps, trainer.model.state_dict()


def _now(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()  # both loops pay it once per step
    return time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    cfg = pretrain.parse(["--recipe", "tiny", "--epochs", str(args.epochs), "--warmup-epochs", "1",
                          "--knn-every", "0", "--log-every", "20", "--save-every", "1000", "--device", args.device])
    data = SeededDataset(parse_data_spec(cfg.data).dataset("train"),
                         random_resized_crop_flip(cfg.input_size, (cfg.crop_min_scale, 1.0)), cfg.seed)
    times: dict[str, list[float]] = {"bare": [], "trainer": []}
    weights = {}
    vis_log = logging.getLogger("vis")
    level = vis_log.level
    vis_log.setLevel(logging.WARNING)  # no console lines in the timed loop
    try:
        for _ in range(args.rounds):
            for name, fn in (("bare", bare_loop), ("trainer", trainer_loop)):
                stamps, weights[name] = fn(cfg, data, device)
                steps = len(stamps)
                times[name].append((stamps[-1] - stamps[0]) / (steps - 1))
    finally:
        vis_log.setLevel(level)
    bare, trainer = statistics.median(times["bare"]), statistics.median(times["trainer"])
    print(f"tiny MAE on {args.device}, {args.epochs} epochs x {steps // args.epochs} steps, batch {cfg.batch_size}, "
          f"{cfg.num_workers} loader workers, {torch.get_num_threads()} threads; median of {args.rounds} rounds")
    print(f"{'loop':10s} {'ms/step':>8s} {'steps/s':>8s}")
    for name, t in (("bare", bare), ("trainer", trainer)):
        print(f"{name:10s} {1e3 * t:8.2f} {1 / t:8.2f}")
    same = all(torch.equal(weights["bare"][k], weights["trainer"][k]) for k in weights["bare"])
    print(f"Trainer / bare step time: {trainer / bare:.3f}; same final weights: {same}")


if __name__ == "__main__":
    main()
