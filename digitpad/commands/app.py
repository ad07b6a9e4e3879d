"""``digitpad app [--home DIR] [PAGE]``: open the window (plain ``digitpad`` does the same)."""

from __future__ import annotations

import argparse

HELP = "open the app: draw or load a page, recognise, correct, save, retrain"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the optional PAGE argument (``--home`` comes from the CLI)."""
    parser.add_argument("page", nargs="?", default=None, help="a page image to open at start")


def run(args: argparse.Namespace) -> int:
    """Open the window and return when it closes.

    Raises:
        DigitpadError: no display to open the window on.
    """
    from digitpad.errors import DigitpadError
    from digitpad.home import resolve_home

    home = resolve_home(getattr(args, "home", None))
    try:
        from digitpad.ui.app import App

        app = App(home, page=getattr(args, "page", None))
    except ImportError as exc:
        raise DigitpadError(f"the app needs tkinter, which this Python lacks ({exc})") from exc
    except Exception as exc:
        if type(exc).__name__ == "TclError":
            raise DigitpadError(f"cannot open the window: {exc}") from exc
        raise
    app.run()
    return 0
