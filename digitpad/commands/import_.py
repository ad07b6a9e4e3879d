"""``digitpad import SRC [--format coco|yolo|folders]``: add a labelled dataset to the store."""

from __future__ import annotations

import argparse
import sys

HELP = "import a COCO, YOLO or folders dataset into the correction store (all or nothing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "src",
        metavar="SRC",
        help="COCO json or folder, YOLO yaml or folder, or a folder of label folders",
    )
    parser.add_argument(
        "--format",
        choices=("coco", "yolo", "folders"),
        help="dataset format (default: guessed from SRC's layout)",
    )


def run(args: argparse.Namespace) -> int:
    """Import SRC. A malformed dataset exits 1 with the file and entry named; nothing is kept."""
    from pathlib import Path

    from digitpad.errors import UsageError
    from digitpad.home import resolve_home
    from digitpad.interop import guess_format, import_dataset
    from digitpad.store import CorrectionStore

    src = Path(args.src)
    if not src.exists():
        raise UsageError(f"{src}: no such file or folder")
    fmt = args.format or guess_format(src)
    home = resolve_home(getattr(args, "home", None))
    with CorrectionStore.open(home) as store:
        report = import_dataset(store, src, fmt)
    notes = [
        (report.pages_labelled, "already in the store without boxes, given the dataset's now"),
        (report.pages_skipped, "already in the store, kept as they were"),
        (report.pages_repeated, "repeated in the dataset (same image, same boxes), imported once"),
    ]
    said = "".join(f"; {n:,} {what}" for n, what in notes if n)
    sys.stdout.write(
        f"imported {report.pages_added:,} pages ({report.boxes_added:,} boxes) from {src} "
        f"as {fmt}{said}\n"
    )
    return 0
