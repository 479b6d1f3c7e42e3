"""Run the ``sim2real`` command line as a user does: a real process, its exit code and its output."""

import os
import subprocess
import sys

from sim2real.cli import main


def sim2real(*args, timeout=600, env=None):
    """Run ``python -m sim2real ARGS``; returns the completed process (text output captured).

    The environment is the test's minus ``TF_CPP_MIN_LOG_LEVEL``, which importing JAX in the test process
    set, so the command runs with the logging a user's shell gives it; ``env`` adds or replaces variables.
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "sim2real", *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )


def in_process(capsys, *args):
    """Run ``sim2real ARGS`` through :func:`sim2real.cli.main` in this process (no interpreter start-up).

    For refusals and other quick paths; returns the same shape as :func:`sim2real`.
    """
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, captured.out, captured.err)


def one_line_error(result):
    """The single stderr line of a command that failed (asserts it failed with exactly one line)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    return lines[0]
