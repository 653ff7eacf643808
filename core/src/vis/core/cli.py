"""Command lines from config dataclasses: pick a recipe, override fields, validate, launch.

`run_cli` is the whole life of an entry point; bad input ends in one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import tyro

from vis.core.config import RunConfig
from vis.core.errors import UserError

C = TypeVar("C", bound=RunConfig)


def fail(err: UserError) -> None:
    print(err.line(), file=sys.stderr)
    sys.exit(err.exit_code)


def parse(config_cls: type[C], recipes: dict[str, Callable[[], C]], args: list[str] | None = None,
          prog: str | None = None, description: str = "") -> C:
    """Parse `--recipe NAME` first, then every other flag on top of that preset, then validate."""
    argv = sys.argv[1:] if args is None else list(args)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--recipe", default="tiny")
    name = pre.parse_known_args(argv)[0].recipe
    if name not in recipes:
        raise UserError(f"unknown recipe '{name}'", "--recipe", f"choose one of: {', '.join(recipes)}")
    default = recipes[name]()
    default.recipe = name
    desc = f"{description}\n\nrecipes: {', '.join(recipes)} (default: tiny)"
    cfg = tyro.cli(config_cls, default=default, args=argv, prog=prog, description=desc)
    cfg.validate()
    return cfg


def run_cli(config_cls: type[C], recipes: dict[str, Callable[[], C]], main: Callable[[C], Any],
            args: list[str] | None = None, prog: str | None = None, description: str = "") -> Any:
    """Parse, validate and launch `main(cfg)` here, under torchrun, or on SLURM (see vis.core.launch).
    Returns what main returned (or the submitted job)."""
    from vis.core.launch import launch

    try:
        cfg = parse(config_cls, recipes, args, prog, description)
        return launch(cfg, main)
    except UserError as e:
        fail(e)


class EntryPoint:
    """A console command: `run(args)` returns what main returned (tests call it in-process); `cli()` is the
    console-script target."""

    def __init__(self, config_cls: type[C], recipes: dict[str, Callable[[], C]], main: Callable[[C], Any],
                 prog: str, description: str = ""):
        self.config_cls, self.recipes, self.main = config_cls, recipes, main
        self.prog, self.description = prog, description

    def run(self, args: list[str] | None = None) -> Any:
        return run_cli(self.config_cls, self.recipes, self.main, args=args, prog=self.prog,
                       description=self.description)

    def cli(self) -> None:
        self.run()

    def submit_array(self, arg_lists: Sequence[Sequence[object]], folder: str | Path) -> list[Any]:
        """Submit one run per argument list (the command's flags, each with its own --output-dir) as one SLURM
        array job, with the launch options of the first; collect with `vis.core.launch.wait_all`."""
        from vis.core.launch import submit_array

        cfgs = [parse(self.config_cls, self.recipes, [str(a) for a in args], self.prog, self.description)
                for args in arg_lists]
        return submit_array(cfgs, self.main, folder)
