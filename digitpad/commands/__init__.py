"""Subcommand modules; each is registered in digitpad.cli.COMMANDS."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """argparse type: an int of 1 or more.

    Raises:
        argparse.ArgumentTypeError: smaller than 1 (a non-number raises ValueError, which
            argparse reports as an invalid value).
    """
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds above 0.

    Raises:
        argparse.ArgumentTypeError: 0, negative, nan or infinite (a non-number raises
            ValueError, which argparse reports as an invalid value).
    """
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value
