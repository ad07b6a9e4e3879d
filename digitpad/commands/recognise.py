"""`digitpad recognise IMAGE...`: read the digits of images, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from typing import Any

HELP = "read the handwritten digits in images (text, or --json with boxes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to read")
    parser.add_argument("--json", action="store_true", help="print one JSON array with boxes")
    parser.add_argument("--model", metavar="PATH", help="ONNX model file (default: active model)")
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        metavar="X",
        help="drop digits whose confidence is below X (0..1, default 0)",
    )


def one_line_name(path: str) -> str:
    """``path`` as one line of text: bytes of the name that are not UTF-8 and the characters
    that break or control a line (newline, tab, escape, U+2028...) become backslash escapes, so
    each image keeps its one line of plain output. Other characters, the spaces of a macOS
    screenshot's name included, are shown as they are; ``--json`` gives names exactly."""
    from digitpad.formats.base import printable

    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in _LINE_BREAKING
        else c
        for c in printable(path)
    )


# control characters, line and paragraph separators
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def run(args: argparse.Namespace) -> int:
    """Recognise every image; an unreadable image is reported and the others still run.

    Exit code 1 when any image could not be read, else 0.
    """
    from digitpad.errors import DigitpadError, UsageError
    from digitpad.home import resolve_home
    from digitpad.recognise_service import Recogniser, load_classifier, load_default_classifier

    if not 0.0 <= args.min_confidence <= 1.0:
        raise UsageError(f"--min-confidence must be between 0 and 1, got {args.min_confidence}")
    if args.model is not None:  # "" is a bad path, not "the default model"
        clf = load_classifier(args.model)
    else:
        clf = load_default_classifier(resolve_home(getattr(args, "home", None)))
    recogniser = Recogniser(clf)
    entries: list[dict[str, Any]] = []
    failed = False
    for path in args.images:
        try:
            result = recogniser.recognise(path, min_confidence=args.min_confidence)
        except DigitpadError as exc:
            failed = True
            entries.append({"image": path, "error": str(exc)})
            if not args.json:
                sys.stderr.write(f"digitpad: error: {exc}\n")
            continue
        entry = {
            "image": path,
            "width": result.width,
            "height": result.height,
            "model": result.model_version,
            "text": result.text,
            "digits": [
                {
                    "box": list(d.box.as_tuple()),
                    "label": d.label,
                    "confidence": round(d.confidence, 4),
                }
                for d in result.digits
            ],
        }
        entries.append(entry)
        if not args.json:
            # one line per image: a multi-row reading is joined with " / "
            sys.stdout.write(f"{one_line_name(path)}: {result.text.replace(chr(10), ' / ')}\n")
    if args.json:
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
    return 1 if failed else 0
