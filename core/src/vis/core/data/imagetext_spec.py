"""Image-text dataset specs a user can type (plain data, no torch: config validation parses them):

- `scenes`: synthetic captioned scenes generated on the fly (vis.core.data.imagetext.SyntheticScenes);
  labelled for zero-shot as `scenes:shape` or `scenes:color`.
- `wds:PATTERN`: webdataset tar shards as img2dataset writes them (`<key>.jpg` + `<key>.txt`); PATTERN takes
  brace ranges and lists (`/data/laion/{00000..41407}.tar`) and shell globs.
- `csv:PATH`: a CSV with a header row `path,caption` (zero-shot: `path,label`, the label a class name);
  relative paths are read from the CSV's folder.
- for zero-shot also `imagefolder:PATH` (PATH/<class>/<image>, or PATH/val/<class>/<image>).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vis.core.errors import UserError

if TYPE_CHECKING:
    import torch

PAIRS = "scenes | wds:PATTERN | csv:PATH"
LABELLED = "scenes:shape | scenes:color | imagefolder:PATH | csv:PATH"
SCENE_TASKS = ("shape", "color")


def expand_braces(pattern: str) -> list[str]:
    """`a{00..02}b{x,y}` -> a00bx, a00by, a01bx, ... (numeric ranges keep their zero padding)."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if m is None:
        return [pattern]
    body = m.group(1)
    rng = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    if rng:
        lo, hi = rng.groups()
        items = [str(i).zfill(len(lo)) for i in range(int(lo), int(hi) + 1)]
    else:
        items = body.split(",")
    return [x for item in items for x in expand_braces(pattern[: m.start()] + item + pattern[m.end() :])]


def shard_paths(pattern: str) -> list[str]:
    """The existing files a shard pattern names, sorted within each brace expansion (globs allowed)."""
    out: list[str] = []
    for p in expand_braces(pattern):
        out += sorted(glob.glob(p)) if any(c in p for c in "*?[") else [p]
    return out


@dataclass(frozen=True)
class ImageTextSpec:
    """A parsed image-text spec: `pairs()` builds the (uint8 image, caption) dataset for training,
    `labelled()` the (uint8 image, class index) dataset for zero-shot evaluation."""

    kind: str
    path: str = ""

    def pairs(self, seed: int = 0) -> torch.utils.data.Dataset:
        from vis.core.data import imagetext

        if self.kind == "scenes":
            return imagetext.SyntheticScenes("train", seed=seed)
        if self.kind == "wds":
            return imagetext.TarShards(shard_paths(self.path))
        return imagetext.CaptionCSV(self.path)

    def labelled(self, classnames: list[str] | None = None) -> torch.utils.data.Dataset:
        """Classes: the scene attribute's values, the folder names, or the CSV's sorted labels (or
        `classnames` in that order: a label not in them is an error)."""
        from vis.core.data import imagetext

        if self.kind == "scenes":
            return imagetext.SceneLabels(self.path)
        if self.kind == "csv":
            return imagetext.LabelledCSV(self.path, classnames)
        from vis.core.data.folder import ImageFolder

        root = Path(self.path)
        return ImageFolder(root / "val" if (root / "val").is_dir() else root)


def parse_pairs_spec(spec: str) -> ImageTextSpec:
    """Parse and check a training spec; missing shards or a missing CSV fail here, before any work."""
    kind, _, path = spec.partition(":")
    if kind == "scenes" and not path:
        return ImageTextSpec("scenes")
    if kind == "wds" and path:
        files = shard_paths(path)
        missing = [f for f in files if not Path(f).is_file()]
        if not files or missing:
            raise UserError(f"{len(missing) or 'no'} shard file(s) not found", missing[0] if missing else path,
                            "give --data wds:PATTERN naming existing .tar shards, e.g. /data/{00000..00099}.tar")
        return ImageTextSpec("wds", path)
    if kind == "csv" and path:
        return _csv_spec(path)
    raise UserError(f"unknown image-text spec '{spec}'", "--data", f"use one of {PAIRS}")


def parse_labelled_spec(spec: str) -> ImageTextSpec:
    """Parse and check a zero-shot evaluation spec."""
    kind, _, path = spec.partition(":")
    if kind == "scenes" and path in SCENE_TASKS:
        return ImageTextSpec("scenes", path)
    if kind == "csv" and path:
        return _csv_spec(path)
    if kind == "imagefolder" and path:
        if not Path(path).is_dir():
            raise UserError("data folder not found", path, "give --data imagefolder:PATH with PATH/<class>/<img>")
        return ImageTextSpec("imagefolder", str(Path(path).resolve()))
    raise UserError(f"unknown zero-shot dataset spec '{spec}'", "--data", f"use one of {LABELLED}")


def _csv_spec(path: str) -> ImageTextSpec:
    if not Path(path).is_file():
        raise UserError("CSV file not found", path, "give --data csv:PATH of a file with a header row")
    return ImageTextSpec("csv", str(Path(path).resolve()))
