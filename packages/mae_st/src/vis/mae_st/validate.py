"""maest-validate: read every video of a dataset once and write the readable ones.

Writes <output-dir>/<split>.csv (readable videos, `<path> <label>`: train on them with --data
kinetics:<output-dir>) and <split>.unreadable.txt (the others, with the reason). Training skips, names and
counts unreadable videos on its own, up to --max-skipped-fraction; this pass finds them all up front.
"""

from __future__ import annotations

from vis.core.data.specs import parse_data_spec
from vis.core.data.video_check import validate_videos
from vis.core.dist import start_run
from vis.mae_st.config import ValidateConfig


def main(cfg: ValidateConfig) -> dict[str, tuple[int, int]]:
    start_run("cpu", cfg.seed)
    return validate_videos(parse_data_spec(cfg.data), cfg.splits, cfg.output_dir, cfg.num_workers)


if __name__ == "__main__":
    from vis.mae_st import cli

    cli.validate.cli()
