"""Configuration of the RCG stages: representation diffusion (RDM), the pixel generator, sampling and
evaluation. Plain data, no torch: `--help` and bad input answer at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vis.core.config import RunConfig, TrainConfig, check


def _file(path: str | None, name: str, what: str) -> None:
    check(path is not None, name, f"is required ({what})", path)
    check(Path(str(path)).is_file(), name, f"is not a file ({what})", path)


@dataclass
class StageConfig(TrainConfig):
    """Options both generator stages share: the frozen encoder and the image pipeline."""

    encoder: str | None = None
    """Representation encoder: a MoCo v3 file (vis mocov3-pretrain checkpoint, official pre-training file, or
    a backbone file from `mocov3-export --keep-projector`); its projector's output is the representation."""
    input_size: int = 256
    """Image side of the generator's pipeline: Resize(input_size) -> RandomCrop(input_size) -> flip."""
    flip: bool = True
    """Random horizontal flips (off for digits, whose mirror images are not digits)."""
    ema_decay: float = 0.9999
    """EMA of the weights (LitEma warm-up min(decay, (1 + n) / (10 + n))); samples use the EMA weights."""

    def validate(self) -> None:
        super().validate()
        _file(self.encoder, "encoder", "a MoCo v3 checkpoint with its projector")
        check(self.input_size >= 8, "input_size", "must be >= 8", self.input_size)
        check(0 <= self.ema_decay < 1, "ema_decay", "must be in [0, 1)", self.ema_decay)


@dataclass
class RdmConfig(StageConfig):
    """rcg-train-rdm options; every field is a --kebab-case flag."""

    rdm_depth: int = 12
    """Residual MLP blocks."""
    rdm_width: int = 1536
    """Width of the blocks (the time embedding is 256-d)."""
    rdm_dropout: float = 0.0
    sample_steps: int = 250
    """DDIM steps of the rep-FD monitor (the paper samples with 250, eta 1)."""
    eta: float = 1.0
    fd_every: int = 1
    """Representation Frechet distance of RDM samples vs real representations every this many epochs (0: end)."""
    fd_samples: int = 1000
    """Generated representations per rep-FD (the paper's Table 8 uses 50k)."""

    def validate(self) -> None:
        super().validate()
        for name in ("rdm_depth", "rdm_width", "sample_steps", "fd_samples"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        check(0 <= self.rdm_dropout < 1, "rdm_dropout", "must be in [0, 1)", self.rdm_dropout)
        check(self.sample_steps <= 1000, "sample_steps", "must be <= the 1000 diffusion steps", self.sample_steps)
        check(self.eta >= 0, "eta", "must be >= 0", self.eta)
        check(self.fd_every >= 0, "fd_every", "must be >= 0", self.fd_every)


@dataclass
class PixelConfig(StageConfig):
    """rcg-train-pixel options: an ADM-style U-Net in pixel space conditioned on the representation."""

    channels: int = 256
    channel_mult: tuple[int, ...] = (1, 1, 2, 2, 4, 4)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (32, 16, 8)
    head_channels: int = 64
    unet_dropout: float = 0.0
    rep_drop_prob: float = 0.1
    """Replace the representation by a learned `fake_latent` with this probability (for guidance)."""
    diffusion_steps: int = 1000
    sample_steps: int = 250
    """DDIM steps of the figures."""
    eta: float = 1.0
    cfg: float = 0.0
    """Guidance of the figures: e = e_c + cfg (e_c - e_u); 0 is no guidance (MAGE's tau convention)."""
    num_figures: int = 16

    def validate(self) -> None:
        super().validate()
        levels = len(self.channel_mult)
        check(levels >= 1 and all(m >= 1 for m in self.channel_mult), "channel_mult", "must be >= 1 each",
              self.channel_mult)
        check(self.input_size % 2 ** (levels - 1) == 0, "input_size",
              f"must be divisible by {2 ** (levels - 1)} (one halving per extra --channel-mult level)", self.input_size)
        check(self.channels >= 1 and self.channels % 32 == 0, "channels", "must be a multiple of 32 (GroupNorm 32)",
              self.channels)
        check(self.num_res_blocks >= 1, "num_res_blocks", "must be >= 1", self.num_res_blocks)
        check(self.head_channels >= 1, "head_channels", "must be >= 1", self.head_channels)
        check(0 <= self.rep_drop_prob < 1, "rep_drop_prob", "must be in [0, 1)", self.rep_drop_prob)
        check(self.diffusion_steps >= 2, "diffusion_steps", "must be >= 2", self.diffusion_steps)
        check(1 <= self.sample_steps <= self.diffusion_steps, "sample_steps", "must be in [1, --diffusion-steps]",
              self.sample_steps)
        check(self.eta >= 0, "eta", "must be >= 0", self.eta)
        check(self.num_figures >= 1, "num_figures", "must be >= 1", self.num_figures)


@dataclass
class SampleConfig(RunConfig):
    """rcg-sample options: representations from the RDM condition the pixel generator."""

    rdm: str | None = None
    """An rcg-train-rdm checkpoint (its EMA weights sample the representations)."""
    pixel: str | None = None
    """An rcg-train-pixel checkpoint (its EMA weights and encoder settings)."""
    num_samples: int = 64
    batch_size: int = 16
    """Per process and batch (the paper's sampler: 16 per GPU)."""
    rdm_steps: int = 250
    rdm_eta: float = 1.0
    pixel_steps: int = 250
    pixel_eta: float = 1.0
    cfg: float = 0.0
    """Guidance scale of the pixel generator (0: none)."""
    save_images: bool = False
    """Also write every sample as <output-dir>/images/<index>.png (the folder FID/IS read)."""
    grid: int = 64
    """Samples in <output-dir>/samples.png."""
    force: bool = False
    """Overwrite existing outputs."""

    def validate(self) -> None:
        super().validate()
        _file(self.rdm, "rdm", "an rcg-train-rdm checkpoint")
        _file(self.pixel, "pixel", "an rcg-train-pixel checkpoint")
        for name in ("num_samples", "batch_size", "rdm_steps", "pixel_steps", "grid"):
            check(getattr(self, name) >= 1, name, "must be >= 1", getattr(self, name))
        for name in ("rdm_eta", "pixel_eta", "cfg"):
            check(getattr(self, name) >= 0, name, "must be >= 0", getattr(self, name))
        out = Path(self.output_dir)
        check(self.force or not (out / "samples.png").exists(), "output_dir",
              "holds samples already (add --force to overwrite them)", self.output_dir)


@dataclass
class EvalConfig(RunConfig):
    """rcg-eval options: generated PNGs against the real images of --data."""

    samples: str | None = None
    """A folder of generated PNGs (rcg-sample --save-images writes <output-dir>/images)."""
    encoder: str | None = None
    """The representation encoder for the representation Frechet distance (no Inception network needed)."""
    inception_weights: str | None = None
    """torch-fidelity's InceptionV3 file (weights-inception-2015-12-05-6726825d.pth) for FID / IS / PR."""
    fid_stats: str | None = None
    """Reference statistics (.npz with mu, sigma: ADM's VIRTUAL_imagenet256_labeled.npz) instead of --data."""
    split: str = "train"
    """The split of --data the samples are compared with."""
    batch_size: int = 64
    max_real: int = 50000
    """At most this many real images (spread over the split)."""
    metrics: list[str] = field(default_factory=lambda: ["rep_fd", "fid", "is", "pr"])

    def validate(self) -> None:
        super().validate()
        check(self.samples is not None and Path(str(self.samples)).is_dir(), "samples", "is not a folder",
              self.samples)
        known = {"rep_fd", "fid", "is", "pr"}
        check(set(self.metrics) <= known, "metrics", f"must be among {sorted(known)}", self.metrics)
        if "rep_fd" in self.metrics:
            _file(self.encoder, "encoder", "for rep_fd; or leave rep_fd out of --metrics")
        if set(self.metrics) & {"fid", "is", "pr"}:
            _file(self.inception_weights, "inception_weights", "weights-inception-2015-12-05-6726825d.pth from "
                  "torch-fidelity's releases, for fid / is / pr; or leave those out of --metrics")
        if self.fid_stats is not None:
            _file(self.fid_stats, "fid_stats", "an .npz with mu and sigma")
        check(self.batch_size >= 1 and self.max_real >= 2, "batch_size" if self.batch_size < 1 else "max_real",
              "is too small", min(self.batch_size, self.max_real))
