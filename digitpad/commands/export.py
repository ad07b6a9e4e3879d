"""``digitpad export DEST [--format coco|yolo|folders]``: write the corrections as a dataset."""

from __future__ import annotations

import argparse
import sys

HELP = "export every page's corrected boxes as a COCO, YOLO or folders dataset"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", metavar="DEST", help="a new (or empty) folder to write")
    parser.add_argument(
        "--format",
        choices=("coco", "yolo", "folders"),
        default="coco",
        help="dataset format (default: coco); folders = one folder of crops per label",
    )


def run(args: argparse.Namespace) -> int:
    """Export the store to DEST. DEST must not hold anything yet (exit 2 otherwise)."""
    from pathlib import Path

    from digitpad.errors import UsageError
    from digitpad.home import resolve_home
    from digitpad.interop import export_dataset
    from digitpad.store import CorrectionStore

    if not args.dest.strip():  # Path("") is the current folder: never a silent choice
        raise UsageError("the export folder is an empty path")
    home = resolve_home(getattr(args, "home", None))
    with CorrectionStore.open(home) as store:
        report = export_dataset(store, Path(args.dest), args.format)
    sys.stdout.write(
        f"exported {report.pages:,} pages ({report.boxes:,} boxes) as {args.format} to "
        f"{report.path}\n"
    )
    return 0
