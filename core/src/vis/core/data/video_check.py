"""One pass over a video dataset that sorts readable files from unreadable ones, before training.

Each file is opened and its first, middle and last frames (by its header's count) are decoded, which finds
missing, empty, truncated and undecodable files without decoding everything. The readable ones are written
as `<split>.csv` (absolute paths, the Kinetics `<path> <label>` layout: use the folder as
`--data kinetics:FOLDER`) and the others, with the reason, as `<split>.unreadable.txt`.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from vis.core.data.specs import DataSpec
from vis.core.data.video_io import Backend, open_video
from vis.core.errors import UserError

log = logging.getLogger("vis")


def check_video(path: str, backend: Backend = "pyav") -> str | None:
    """None when the file opens and its first, middle and last frames decode; else the reason."""
    try:
        reader = open_video(path, backend)
        try:
            n = reader.meta.num_frames
            reader.get_frames([0, n // 2, n - 1])
        finally:
            reader.close()
    except Exception as e:  # any failure means unreadable; the reason is reported
        return f"{type(e).__name__}: {e}".strip()
    return None


def _check(args: tuple[str, Backend]) -> str | None:
    return check_video(*args)


def validate_videos(spec: DataSpec, splits: tuple[str, ...], out_dir: str | Path, num_workers: int = 0,
                    backend: Backend = "pyav") -> dict[str, tuple[int, int]]:
    """Check every video of each split that `spec` has; returns {split: (readable, unreadable)}. Existing
    output files are never overwritten."""
    out = Path(out_dir)
    present = [s for s in splits if spec.has_split(s)]
    targets = [out / f"{s}{suffix}" for s in present for suffix in (".csv", ".unreadable.txt")]
    taken = [str(t) for t in targets if t.exists()]
    if taken:
        raise UserError("output files exist", taken[0], "choose another --output-dir or remove them")
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    pool = ProcessPoolExecutor(num_workers) if num_workers > 0 else None
    try:
        for split in present:
            data = spec.dataset(split)
            jobs = [(path, backend) for path, _ in data.items]
            reasons = list(pool.map(_check, jobs, chunksize=16) if pool else map(_check, jobs))
            good = [f"{Path(p).resolve()} {label}"
                    for (p, label), r in zip(data.items, reasons, strict=True) if r is None]
            bad = [f"{p}\t{r}" for (p, _), r in zip(data.items, reasons, strict=True) if r is not None]
            for name, lines in ((f"{split}.csv", good), (f"{split}.unreadable.txt", bad)):
                tmp = out / f".{name}.tmp"
                tmp.write_text("".join(f"{x}\n" for x in lines))
                tmp.replace(out / name)
            counts[split] = (len(good), len(bad))
            log.info(f"{split}: {len(good)} readable, {len(bad)} unreadable of {len(data)} videos "
                     f"-> {out / f'{split}.csv'}")
            for line in bad[:20]:
                log.warning(f"unreadable: {line}")
    finally:
        if pool:
            pool.shutdown()
    return counts
