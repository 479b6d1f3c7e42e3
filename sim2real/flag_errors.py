"""A command's flags parsed by tyro, its mistakes told in one line.

tyro reports a bad flag in a box of several lines (the message, the argument's help text, a pointer to
``--help``). :func:`parse_flags` keeps ``--help`` as tyro prints it and turns every other report into the
one line every other user mistake gets: ``sim2real COMMAND: what is wrong; run sim2real COMMAND --help``.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from typing import TypeVar

import tyro

T = TypeVar("T")

_BOX = re.compile(r"[╭╮╰╯│─]+")
_POINTERS = ("For full helptext", "sim2real ")
_STOPS = ("Argument helptext:", "Got errors:")


class FlagError(Exception):
    """A command line tyro refused; ``code`` is its exit code and the message one line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def one_line(report: str, prog: str) -> str:
    """Tyro's boxed report as one line: the box's message (not its title, the help text or the pointers)."""
    kept = []
    for raw in report.splitlines():
        if raw.lstrip().startswith("╭"):
            continue  # the title line: "Unrecognized options", "Value error"
        line = _BOX.sub(" ", raw).strip()
        if line.startswith(_STOPS):
            break
        if line and not line.startswith(_POINTERS):
            kept.append(line)
    message = " ".join(kept).rstrip(".") or "could not parse the flags"
    return f"{prog}: {message}; run {prog} --help"


def parse_flags(cls: type[T], args: list[str], prog: str) -> T:
    """``args`` parsed into ``cls`` by tyro; ``--help`` exits as tyro does, a mistake raises :class:`FlagError`."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            parsed = tyro.cli(cls, args=args, prog=prog, console_outputs=True)
        sys.stderr.write(captured.getvalue())  # warnings of a successful parse still reach the user
        return parsed
    except SystemExit as exc:
        code = int(exc.code or 0)
        if code == 0:
            sys.stderr.write(captured.getvalue())
            raise
        raise FlagError(one_line(captured.getvalue(), prog), code) from None
