"""The command line shared by the benchmarks that read pages through one model: ``--model``,
a count (``--pages``, ``--rows``...), ``--out``; the result printed as JSON and written."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from digitpad.commands import positive_int
from digitpad.errors import ModelError
from digitpad.home import shipped_model_path


def report(name: str, result: dict[str, object], out: Path) -> int:
    """Print ``result`` as JSON and write it to ``out``: 0, or 1 after a one-line error on
    stderr when it cannot be written."""
    text = json.dumps(result, indent=2)
    print(text)
    try:
        out.write_text(text + "\n")
    except OSError as exc:
        print(f"{name}: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def model_count_cli(
    name: str,
    measure: Callable[[Path, int], dict[str, object]],
    count: tuple[str, int],
    default_out: Path,
    argv: list[str] | None,
) -> int:
    """Run ``measure(model, n)`` from the command line ``--model FILE --<count> N --out FILE``
    (``count`` is the option's name and default) and :func:`report` its result.

    Returns 0, or 1 after a one-line error on stderr when the model cannot be loaded or the
    result cannot be written. Raises SystemExit(2) for bad arguments (argparse).
    """
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}")
    parser.add_argument("--model", type=Path, default=shipped_model_path())
    parser.add_argument(
        f"--{count[0]}", type=positive_int, default=count[1], dest="count", metavar="N"
    )
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    try:
        result = measure(args.model, args.count)
    except ModelError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    return report(name, result, args.out)
