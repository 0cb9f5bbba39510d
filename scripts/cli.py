"""How the command-line tools end: with their exit code and nothing after it.

The Pulumi SDK's synchronous helpers create asyncio event loops of their own and leave them
open; when the interpreter finalizes them at exit, Python sometimes prints an
"Exception ignored ... Invalid file descriptor" trace after the tool's own message. A tool
has nothing left to clean up once ``main`` has returned (files are written and closed, the
policy pack process is stopped), so it flushes its streams and leaves without finalizers.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn


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
