"""The ``digitpad`` command: a thin argparse layer over the library.

Each subcommand lives in ``digitpad/commands/<name>.py`` and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Command modules import only the standard
library at module level, so ``digitpad --help`` and the app start fast; heavy imports happen in
``run``. A :class:`~digitpad.errors.DigitpadError` becomes one line on stderr and its exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn, TextIO

from digitpad import __version__
from digitpad.errors import DigitpadError, os_error_line

_PYTHON_SHOW = warnings.showwarning
# what a shell reports for a process killed by SIGPIPE (128 + 13): the reader of our output
# went away, as in `digitpad recognise *.png | head -1`
EXIT_BROKEN_PIPE = 141
# Subcommand name -> module under digitpad.commands. Order is the order in --help.
COMMANDS: dict[str, str] = {
    "app": "app",
    "recognise": "recognise",
    "synth": "synth",
    "import": "import_",
    "export": "export",
    "stats": "stats",
    "retrain": "retrain",
    "models": "models",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def _home_option(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=argparse.SUPPRESS if suppress else None,
        help="data home holding corrections/ and models/ (default: $DIGITPAD_HOME, the checkout, "
        "or the per-user data directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every available subcommand."""
    parser = _Parser(
        prog="digitpad",
        description="Read handwritten digits, correct them, retrain on your corrections. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"digitpad {__version__}")
    _home_option(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"digitpad.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"digitpad.commands.{module_name}":
                continue  # not built yet in this checkout
            raise
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        _home_option(cmd, suppress=True)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code (see the README's exit codes). Errors are
    one line on stderr, never a traceback; when stdout cannot be written (a reader gone away,
    a full disk), it is pointed at the null device."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        if "app" not in COMMANDS or not _has_command(parser, "app"):
            parser.print_help()
            return 0
        args = parser.parse_args([*(argv or sys.argv[1:]), "app"])
    warnings.showwarning = _show_warning
    _stdout_or_nothing()
    try:
        code = int(args._run(args) or 0)
    except DigitpadError as exc:
        sys.stderr.write(f"digitpad: error: {exc}\n")
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("digitpad: interrupted\n")
        code = 130
    except OSError as exc:
        # a write to a reader gone away; the command writes to no pipe but stdout (with
        # PYTHONUNBUFFERED the failed print leaves nothing to flush, so that cannot tell)
        if isinstance(exc, BrokenPipeError):
            code = EXIT_BROKEN_PIPE
        else:
            # the commands turn what they read and write into DigitpadErrors; what is left is
            # one the person can still act on (an output path that is a folder, a full disk)
            sys.stderr.write(f"digitpad: error: {os_error_line(exc)}\n")
            code = 1
    finally:
        warnings.showwarning = _PYTHON_SHOW
    return _end_output(code)


def _end_output(code: int) -> int:
    """``code``, once stdout is flushed here rather than at exit, where a failure would print
    an "Exception ignored" trace: a reader gone away (``| head``) makes it EXIT_BROKEN_PIPE,
    a stdout that cannot be written (a full disk) one line and 1 (unless the command already
    failed and said so). Either way stdout is pointed at the null device after."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        _discard_stdout()
        if code == 0:
            sys.stderr.write(f"digitpad: error: {os_error_line(exc)}\n")
            return 1
    except ValueError:  # closed by the command itself: nothing left to flush
        pass
    return code


def _stdout_or_nothing() -> None:
    """A closed stdout or stderr (``digitpad ... >&-``) writes into nothing, as the person asked,
    instead of failing on the first print."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def _discard_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit, which would fail the
    same way again, prints no "Exception ignored" trace. (In a process that goes on, as in a
    test calling :func:`main`, stdout stays pointed there.)"""
    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        # no file descriptor to redirect (a replaced stdout): a fresh one will do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """digitpad's own warnings (a model fallen back to another) as one line on stderr, like its
    errors; any other library's as Python shows them."""
    if category.__module__.split(".")[0] == "digitpad":
        sys.stderr.write(f"digitpad: warning: {' '.join(str(message).split())}\n")
    else:
        _PYTHON_SHOW(message, category, filename, lineno, file, line)


def _has_command(parser: argparse.ArgumentParser, name: str) -> bool:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return name in action.choices
    return False
