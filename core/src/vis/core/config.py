"""Typed configuration shared by every entry point: launch options and training options.

Entry points subclass `TrainConfig`; tyro turns the dataclass into a CLI (kebab-case flags), and each paper
recipe is an instance of it. `validate()` checks values before any work starts. Plain data only: this
module (and every config and recipe module) must not import torch, so that `--help` and bad input answer
at once (tests/test_startup.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import tyro

from vis.core.errors import UserError

Precision = Literal["fp32", "bf16", "fp16"]


@dataclass
class LaunchOptions:
    """Where to run. With --nodes (or --slurm) outside a SLURM job, the command submits itself."""

    nodes: int | None = None
    """Submit to SLURM with this many nodes (omit to run here, or under torchrun)."""
    gpus_per_node: int = 8
    """GPUs per node on the cluster (0 for CPU-only jobs)."""
    tasks_per_node: int | None = None
    """Processes per node; defaults to --gpus-per-node (1 when that is 0)."""
    cpus_per_task: int = 10
    partition: str | None = None
    account: str | None = None
    constraint: str | None = None
    qos: str | None = None
    comment: str | None = None
    exclude: str | None = None
    mem_gb: int | None = None
    timeout_min: int = 4320
    """Job time limit in minutes; the job saves last.pt and requeues itself shortly before it."""
    signal_delay_s: int | None = None
    """Seconds before the time limit at which SLURM sends USR2 (the job then saves last.pt and requeues);
    default min(120, 15 x --timeout-min). Raise it when writing a checkpoint takes long; SLURM may signal up
    to 30 s earlier still, so keep it well under the limit."""
    max_requeue: int = 20
    """How many preemptions / time-outs a job may survive (submitit's max_num_timeout)."""
    slurm: bool = False
    """Submit even without --nodes (one node)."""
    cluster: Literal["slurm", "local", "debug"] | None = None
    """submitit back-end; default: SLURM when sbatch is on PATH. 'local' runs the job as subprocesses here."""
    wait: bool = False
    """Stay attached until the job ends and report its result (always on for --cluster local/debug)."""
    job_name: str | None = None

    @property
    def submits(self) -> bool:
        return self.nodes is not None or self.slurm

    def validate(self) -> None:
        check(self.nodes is None or self.nodes >= 1, "nodes", "must be >= 1", self.nodes)
        check(self.gpus_per_node >= 0, "gpus_per_node", "must be >= 0", self.gpus_per_node)
        check(self.tasks_per_node is None or self.tasks_per_node >= 1, "tasks_per_node", "must be >= 1",
               self.tasks_per_node)
        for name in ("cpus_per_task", "timeout_min"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(self.max_requeue >= 0, "max_requeue", "must be >= 0", self.max_requeue)
        check(self.signal_delay_s is None or self.signal_delay_s >= 1, "signal_delay_s", "must be >= 1",
              self.signal_delay_s)


@dataclass
class ViTOptions:
    """Size of the Vision Transformer (named sizes: vit_base_patch16 768 x 12 x 12 heads, patch 16; large
    1024 x 24 x 16; huge 1280 x 32 x 16, patch 14)."""

    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12

    def validate(self, input_size: int | None = None) -> None:
        """Check the sizes (and that `input_size`, when given, is a whole number of patches)."""
        if input_size is not None:
            check(input_size % self.patch_size == 0, "input_size", f"must be a multiple of --patch-size "
                  f"{self.patch_size}", input_size)
        check(self.embed_dim % self.num_heads == 0, "embed_dim", f"must be divisible by --num-heads "
               f"{self.num_heads}", self.embed_dim)
        check(self.embed_dim % 4 == 0, "embed_dim", "must be divisible by 4 (2-D sin-cos)", self.embed_dim)
        for name in ("patch_size", "depth", "num_heads"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))


@dataclass
class DecoderOptions:
    """The MAE decoder shared by MAE (the paper's: 512-d, 8 blocks, 16 heads) and MAE-ST (512-d, 4 blocks)."""

    decoder_embed_dim: int = 512
    decoder_depth: int = 8
    decoder_num_heads: int = 16

    def validate(self) -> None:
        check(self.decoder_embed_dim % 4 == 0 and self.decoder_embed_dim % self.decoder_num_heads == 0,
              "decoder_embed_dim", "must be divisible by 4 and by --decoder-num-heads", self.decoder_embed_dim)


@dataclass
class ResNetOptions:
    """A torchvision ResNet (with --arch resnet): depth, stage-1 width (64 is torchvision's model) and stem."""

    resnet_depth: Literal[18, 34, 50, 101] = 50
    resnet_width: int = 64
    """Widths of the four stages are w, 2w, 4w, 8w (x4 for the bottleneck depths 50 and 101)."""
    small_input_stem: bool = False
    """A 3x3 stride-1 first convolution and no max-pool, for 32-pixel inputs."""

    def validate(self) -> None:
        check(self.resnet_width >= 1, "resnet_width", "must be >= 1", self.resnet_width)

    def kwargs(self) -> dict[str, Any]:
        return {"depth": self.resnet_depth, "width": self.resnet_width, "small_input": self.small_input_stem}


Arch = Literal["vit", "resnet"]


VIT_SIZES: dict[str, ViTOptions] = {
    "vit_small_patch16": ViTOptions(patch_size=16, embed_dim=384, depth=12, num_heads=6),
    "vit_base_patch16": ViTOptions(patch_size=16, embed_dim=768, depth=12, num_heads=12),
    "vit_large_patch16": ViTOptions(patch_size=16, embed_dim=1024, depth=24, num_heads=16),
    "vit_huge_patch14": ViTOptions(patch_size=14, embed_dim=1280, depth=32, num_heads=16),
}


def vit_size(name: str) -> ViTOptions:
    """A fresh copy of a named ViT size (vit_small_patch16, vit_base_patch16, vit_large_patch16,
    vit_huge_patch14)."""
    if name not in VIT_SIZES:
        raise ValueError(f"unknown ViT '{name}'; known: {', '.join(VIT_SIZES)}")
    return dataclasses.replace(VIT_SIZES[name])


@dataclass
class RunConfig:
    """Options of every entry point: the preset, data, output folder, seed, device, launch."""

    recipe: str = "tiny"
    """Named preset the other values start from (see the list in --help)."""
    data: str = "digits"
    """Dataset spec: digits | photos | imagefolder:PATH | cifar10:PATH."""
    output_dir: str = "output"
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_workers: int = 2
    max_skipped_fraction: float = 0.01
    """Stop with an error when more than this fraction of the samples a pass reads could not be read."""
    launch: Annotated[LaunchOptions, tyro.conf.OmitArgPrefixes] = field(default_factory=LaunchOptions)
    """Launch options (flags without prefix: --nodes, --partition, ...)."""

    def validate(self) -> None:
        check(self.num_workers >= 0, "num_workers", "must be >= 0", self.num_workers)
        check(0 <= self.max_skipped_fraction <= 1, "max_skipped_fraction", "must be in [0, 1]",
              self.max_skipped_fraction)
        self.validate_data()  # an unknown spec or a missing folder fails here, before any work
        self.launch.validate()

    def validate_data(self) -> None:
        """Parse --data (image datasets; entry points reading other kinds of data override this)."""
        from vis.core.data.specs import parse_data_spec

        parse_data_spec(self.data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainConfig(RunConfig):
    """Options every training entry point shares."""

    epochs: int = 1
    batch_size: int = 64
    """Batch size per device (per process)."""
    accum_iter: int = 1
    """Micro-batches accumulated per optimizer step."""
    blr: float = 1e-3
    """Base learning rate: lr = blr * global batch / 256, global batch = batch_size * accum_iter * world size."""
    lr: float | None = None
    """Absolute learning rate (overrides --blr)."""
    min_lr: float = 0.0
    warmup_epochs: float = 0.0
    weight_decay: float = 0.05
    clip_grad: float | None = None
    precision: Precision = "fp32"
    parallel: Literal["ddp", "fsdp"] = "ddp"
    """With several processes: 'ddp' replicates the model; 'fsdp' shards parameters, gradients and optimizer
    state (FSDP2) for models that do not fit one device, with sharded checkpoints (resume on the same world
    size)."""
    resume: str = "auto"
    """'auto': resume from <output-dir>/checkpoints/last.pt when it exists; 'none'; or a checkpoint path."""
    save_every: int = 20
    """Keep checkpoint-<epoch>.pt every this many epochs (and at the end)."""
    save_every_steps: int = 0
    """Also refresh last.pt every this many optimizer steps (0: only at epoch ends and on preemption)."""
    log_every: int = 20
    """Console / JSON log interval in optimizer steps."""
    check_every: int = 10
    """Optimizer steps between the host-side checks (non-finite loss, preemption signal), which are kept off
    the per-step path; they also run at every log step and before every checkpoint. A preempted run saves
    within this many steps of the signal."""
    stop_after_steps: int | None = None
    """Stop after this many optimizer steps in total, with last.pt saved; rerun to continue."""
    def validate(self) -> None:
        """Raise UserError naming the first bad field."""
        super().validate()
        for name in ("epochs", "batch_size", "accum_iter", "save_every", "log_every", "check_every"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        for name in ("blr", "min_lr", "weight_decay", "warmup_epochs"):
            check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))
        check(self.lr is None or self.lr >= 0, "lr", "must be >= 0", self.lr)
        check(self.clip_grad is None or self.clip_grad > 0, "clip_grad", "must be > 0", self.clip_grad)
        check(self.warmup_epochs <= self.epochs, "warmup_epochs", "must not exceed --epochs", self.warmup_epochs)
        check(self.save_every_steps >= 0, "save_every_steps", "must be >= 0", self.save_every_steps)
        check(self.stop_after_steps is None or self.stop_after_steps >= 1, "stop_after_steps", "must be >= 1",
               self.stop_after_steps)


@dataclass
class SelfSupervisedConfig(TrainConfig):
    """Options every self-supervised pre-training entry point shares (MAE, MoCo v3, SimSiam, ...): the crop,
    and the kNN monitor of the learned features (vis.core.eval.knn.KnnMonitor)."""

    input_size: int = 224
    crop_min_scale: float = 0.2
    """RandomResizedCrop scale range is (crop_min_scale, 1)."""
    knn_every: int = 0
    """Run the kNN monitor every this many epochs (0: only at the end)."""
    knn_batch_size: int = 256

    def validate(self) -> None:
        super().validate()
        check(self.input_size >= 8, "input_size", "must be >= 8", self.input_size)
        check(0 < self.crop_min_scale <= 1, "crop_min_scale", "must be in (0, 1]", self.crop_min_scale)
        check(self.knn_every >= 0, "knn_every", "must be >= 0", self.knn_every)
        check(self.knn_batch_size >= 1, "knn_batch_size", "must be >= 1", self.knn_batch_size)


def check(ok: bool, field: str, rule: str, value: Any) -> None:
    """Raise UserError naming --field when `ok` is false."""
    if not ok:
        flag = "--" + field.replace("_", "-")
        raise UserError(f"{flag} {rule}, got {value}", flag, "fix the value and rerun")
