"""``digitpad stats [--json] [--last N]``: live accuracy and the confusion matrix of the store."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "show live accuracy (overall, last 100, per model, per digit) and the confusion matrix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    parser.add_argument(
        "--last", type=int, default=100, metavar="N", help="size of the recent window (default 100)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the stats of the home's correction store. Exit 0; a store error exits 1."""
    from digitpad.errors import UsageError
    from digitpad.home import resolve_home
    from digitpad.store import CorrectionStore, format_stats

    if args.last < 1:
        raise UsageError("--last must be at least 1")
    # a window past the store is the whole store; SQLite takes no integer past 2**63
    last = min(args.last, 2**62)
    home = resolve_home(getattr(args, "home", None))
    with CorrectionStore.open(home) as store:
        stats = store.stats(last=last)
    if args.json:
        sys.stdout.write(json.dumps(stats.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(f"store: {home.store_path}\n{format_stats(stats)}\n")
    return 0
