"""Run logging on rank 0: a console line per interval, JSON lines, TensorBoard scalars, and a tqdm bar when
stderr is a terminal (SLURM .out files get plain lines only)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("vis")


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a record is emitted (tests and notebooks swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_console(rank: int = 0) -> None:
    """Console logging: INFO on rank 0, warnings only elsewhere (prefixed with the rank)."""
    if log.handlers:
        return
    h = _StdoutHandler()
    h.setFormatter(logging.Formatter(f"%(asctime)s [rank {rank}] %(message)s" if rank else "%(asctime)s %(message)s",
                                     datefmt="%H:%M:%S"))
    log.addHandler(h)
    log.setLevel(logging.INFO if rank == 0 else logging.WARNING)
    log.propagate = False


class MetricLog:
    """JSON lines in `log.jsonl` plus TensorBoard scalars under `tb/`; inert on ranks other than 0."""

    def __init__(self, out_dir: Path, enabled: bool, resume_step: int | None = None):
        self.enabled = enabled
        self.path = out_dir / "log.jsonl"
        self._tb = None
        if not enabled:
            return
        if resume_step is not None and self.path.exists():
            self._truncate_after(resume_step)
        from torch.utils.tensorboard import SummaryWriter

        self._tb = SummaryWriter(str(out_dir / "tb"), purge_step=resume_step)

    def _truncate_after(self, step: int) -> None:
        """Drop records an interrupted run wrote after the checkpoint it resumes from (all of them for a run
        killed before its first checkpoint), and a last line cut short by a kill."""
        keep = []
        for line in self.path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(ln + "\n" for ln in keep))
        tmp.replace(self.path)

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        append_jsonl(self.path, record)
        step = record.get("step", 0)
        for k, v in record.items():
            if isinstance(v, (int, float)) and k not in ("step", "epoch"):
                self._tb.add_scalar(k, v, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON record to a log.jsonl file."""
    with Path(path).open("a") as f:
        f.write(json.dumps(record) + "\n")


def format_line(record: dict[str, Any]) -> str:
    """'epoch 3 step 120 loss 0.8123 lr/decay 1.2e-04 ...' with short floats."""
    parts = []
    for k, v in record.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{k} {v:.2e}")
        else:
            parts.append(f"{k} {v}")
    return " ".join(parts)


def progress(total: int, desc: str, enabled: bool):
    """A tqdm bar on an interactive terminal, otherwise None."""
    if not (enabled and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
