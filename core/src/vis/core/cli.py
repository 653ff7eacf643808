"""Command lines from config dataclasses: pick a recipe, override fields, validate, launch.

`run_cli` is the whole life of an entry point; bad input ends in one line on stderr and exit status 2.
Nothing here imports torch: an `EntryPoint` names its run function as "module:function" and imports it only
once the options are valid, so `--help` and bad input answer without loading torch, torchvision or timm.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import io
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import tyro

from vis.core.config import RunConfig
from vis.core.errors import UserError

C = TypeVar("C", bound=RunConfig)
Main = Callable[[Any], Any] | str
"""A run function, or "package.module:function" naming one (imported when the run starts)."""


def fail(err: UserError) -> None:
    print(err.line(), file=sys.stderr)
    sys.exit(err.exit_code)


def _tyro_error(text: str, prog: str | None) -> UserError:
    """tyro's boxed parse error as one line: its message, and the flag it suggests for a misspelt option."""
    sections = re.split(r"\n\s*-{5,}\s*\n", text.strip())
    body = sections[1] if len(sections) > 1 else sections[0]
    message = " ".join(body.split("\n\n")[0].split()) or "invalid arguments"
    hint = f"see {prog or 'the command'} --help"
    suggestions = [s for s in sections if "Perhaps you meant" in s]
    if suggestions:
        flags = list(dict.fromkeys(re.findall(r"(--[\w-]+)", suggestions[0])))[:3]
        hint = f"did you mean {' or '.join(flags)}? {hint}"
    return UserError(message.rstrip("."), prog or "", hint)


def _tyro_cli(config_cls: type[C], default: C, argv: list[str], prog: str | None, desc: str) -> C:
    if "-h" in argv or "--help" in argv:
        return tyro.cli(config_cls, default=default, args=argv, prog=prog, description=desc)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(buf):
            return tyro.cli(config_cls, default=default, args=argv, prog=prog, description=desc)
    except SystemExit as e:
        if e.code in (0, None):
            print(buf.getvalue(), end="")
            raise
        raise _tyro_error(buf.getvalue(), prog) from None


def parse(config_cls: type[C], recipes: dict[str, Callable[[], C]], args: Sequence[str] | None = None,
          prog: str | None = None, description: str = "") -> C:
    """Parse `--recipe NAME` first, then every other flag on top of that preset, then validate."""
    argv = sys.argv[1:] if args is None else [str(a) for a in args]
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--recipe", default="tiny")
    name = pre.parse_known_args(argv)[0].recipe
    if name not in recipes:
        raise UserError(f"unknown recipe '{name}'", "--recipe", f"choose one of: {', '.join(recipes)}")
    default = recipes[name]()
    default.recipe = name
    desc = f"{description}\n\nrecipes: {', '.join(recipes)} (default: tiny)"
    cfg = _tyro_cli(config_cls, default, argv, prog, desc)
    cfg.validate()
    return cfg


def resolve(main: Main) -> Callable[[Any], Any]:
    """The run function itself (imported now when given as "module:function")."""
    if callable(main):
        return main
    module, _, name = main.partition(":")
    return getattr(importlib.import_module(module), name)


def module_doc(main: Main) -> str:
    """The docstring of the module that holds `main`, read from its source without importing it."""
    if callable(main):
        return sys.modules[main.__module__].__doc__ or ""
    spec = importlib.util.find_spec(main.partition(":")[0])
    if spec is None or spec.origin is None:
        return ""
    return ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""


def run_cli(config_cls: type[C], recipes: dict[str, Callable[[], C]], main: Main,
            args: Sequence[str] | None = None, prog: str | None = None, description: str = "",
            local: bool = False) -> Any:
    """Parse, validate and launch `main(cfg)` here, under torchrun, or on SLURM (see vis.core.launch); with
    `local`, always run it here (a command that submits work itself, such as a sweep's job array, reads the
    launch options on its own). Returns what main returned (or the submitted job)."""
    try:
        cfg = parse(config_cls, recipes, args, prog, description)
        if local:
            return resolve(main)(cfg)
        from vis.core.launch import launch

        return launch(cfg, resolve(main))
    except UserError as e:
        fail(e)


class EntryPoint:
    """A console command: `run(args)` returns what main returned (tests call it in-process); `cli()` is the
    console-script target. `main` is the run function or "module:function"; the help text is that module's
    docstring unless `description` is given. A `local` command runs here whatever its launch options (see
    run_cli)."""

    def __init__(self, config_cls: type[C], recipes: dict[str, Callable[[], C]], main: Main, prog: str,
                 description: str | None = None, local: bool = False):
        self.config_cls, self.recipes, self.main = config_cls, recipes, main
        self.prog, self._description, self.local = prog, description, local

    @property
    def description(self) -> str:
        return module_doc(self.main) if self._description is None else self._description

    def run(self, args: Sequence[str] | None = None) -> Any:
        return run_cli(self.config_cls, self.recipes, self.main, args=args, prog=self.prog,
                       description=self.description, local=self.local)

    def cli(self) -> None:
        self.run()

    def parse(self, args: Sequence[str]) -> Any:
        """The validated config these flags give (what `run` would launch)."""
        return parse(self.config_cls, self.recipes, args, self.prog, self.description)

    def submit_array(self, arg_lists: Sequence[Sequence[object]], folder: str | Path) -> list[Any]:
        """Submit one run per argument list (the command's flags, each with its own --output-dir) as one SLURM
        array job, with the launch options of the first; collect with `vis.core.launch.wait_all`."""
        from vis.core.launch import submit_array

        cfgs = [self.parse([str(a) for a in args]) for args in arg_lists]
        return submit_array(cfgs, resolve(self.main), folder)
