"""How the command-line tools start and end: their exit codes, their parser, their last word.

Every tool exits with one of the four codes below, and every tool that works on a stack
takes the same ``--stack`` and ``--stack-file`` options (:func:`command_parser`).

The Pulumi SDK's synchronous helpers create asyncio event loops of their own and leave them
open; when the interpreter finalizes them at exit, Python sometimes prints an
"Exception ignored ... Invalid file descriptor" trace after the tool's own message. A tool
has nothing left to clean up once ``main`` has returned (files are written and closed, the
policy pack process is stopped), so :func:`exit_with` flushes its streams and leaves
without finalizers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

EXIT_OK = 0
"""Everything checked passed / nothing to do."""
EXIT_FAIL = 1
"""The tool's verdict is no: a check failed, drift was found, something blocks, or a
mandatory policy is violated (the report says what)."""
EXIT_INPUT = 2
"""Bad input: unknown stack, bad configuration, unreadable or malformed files, bad flags."""
EXIT_ERROR = 3
"""The tool could not finish: AWS (or another source) could not be asked, or the program
itself failed."""


def command_parser(
    module: str, doc: str | None, *, stack: str | None = None
) -> argparse.ArgumentParser:
    """The parser of ``python -m <module>``, the module's docstring as its help.

    With ``stack`` (what the stack is to the tool, e.g. ``"stack to check"``) it takes the
    options of a tool that works on one stack: ``--stack`` (required; the help lists the
    project's stacks) and ``--stack-file``.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if stack is not None:
        from scripts.offline.project import StackFileError, available_stacks  # noqa: PLC0415

        with contextlib.suppress(StackFileError):  # the tool reports a broken Pulumi.yaml
            stack += f": {', '.join(available_stacks())}"
        parser.add_argument("--stack", required=True, help=stack)
        parser.add_argument(
            "--stack-file",
            type=Path,
            help="use this settings file instead of stacks/Pulumi.<stack>.yaml",
        )
    return parser


def exit_with(main: Callable[[], int]) -> NoReturn:
    """Run ``main``, flush stdout and stderr, and exit with its code, skipping finalizers."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
