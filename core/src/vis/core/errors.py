"""Errors a user should see as one line: bad input (exit 2) and failures during a run (exit 1)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: a config value, a data path, a checkpoint file. Printed as one line, exit status 2."""

    exit_code = 2

    def __init__(self, what: str, where: str = "", todo: str = ""):
        self.what, self.where, self.todo = what, where, todo
        super().__init__(self.line())

    def line(self) -> str:
        s = f"error: {self.what}"
        if self.where:
            s += f" ({self.where})"
        if self.todo:
            s += f": {self.todo}"
        return s


class RunError(UserError):
    """A failure during the run (non-finite loss, too many corrupt samples). Exit status 1."""

    exit_code = 1
