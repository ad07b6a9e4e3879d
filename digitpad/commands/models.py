"""``digitpad models``: list the model versions with their metrics (the active one marked);
``digitpad models use VERSION`` rolls back (or forward) to a version."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

HELP = "list model versions with their metrics, or switch with `models use VERSION`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", choices=("list", "use"), default="list", help="list (default) or use"
    )
    parser.add_argument("version", nargs="?", help="with use: the version, e.g. v1 or 2")
    parser.add_argument("--json", action="store_true", help="list as JSON")


def _pct(value: Any) -> str:
    return f"{100.0 * float(value):.1f}%" if isinstance(value, (int, float)) else "-"


def _row(e: Any) -> dict[str, Any]:
    return {
        "version": e.name,
        "status": e.status,
        "active": e.status == "active",
        "parent": None if e.parent is None else f"v{e.parent}",
        "created": e.created or None,
        "path": str(e.path),
        "corrections": e.data_counts.get("corrections"),
        "heldout_acc": e.metrics.get("heldout_acc"),
        "heldout_n": e.metrics.get("heldout_n"),
        "regression_acc": e.metrics.get("regression_acc"),
        "message": e.message,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    head = ("", "version", "status", "created", "parent", "corrections", "held-out", "regression")
    lines = [head]
    for r in rows:
        lines.append(
            (
                "*" if r["active"] else "",
                r["version"],
                r["status"],
                (r["created"] or "shipped").replace("T", " ").rstrip("Z"),
                r["parent"] or "-",
                "-" if r["corrections"] is None else str(r["corrections"]),
                _pct(r["heldout_acc"]),
                _pct(r["regression_acc"]),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    for r in rows:
        if r["message"]:
            out.append(f"{r['version']}: {r['message']}")
    return "\n".join(out)


def _check_usable(entry: Any) -> None:
    """Refuse a version whose file onnxruntime cannot read as a digit classifier: the registry
    checks a file's size and hash, but a registry rebuilt from the files found on disk has
    neither, and any ONNX file would pass (recognise and retrain would then fail).

    Raises:
        ModelError: in one line, naming the version.
    """
    from digitpad.classifier import Classifier
    from digitpad.errors import ModelError

    try:
        Classifier.load(entry.path)
    except ModelError as exc:
        raise ModelError(f"cannot use {entry.name}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from digitpad.errors import ModelError, UsageError
    from digitpad.home import resolve_home
    from digitpad.registry import ModelRegistry

    home = resolve_home(getattr(args, "home", None))
    registry = ModelRegistry(home.models_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.action == "use":
            if not args.version:
                raise UsageError("models use needs a VERSION, e.g. `digitpad models use v1`")
            _check_usable(registry.get(args.version))
            entry = registry.use(args.version)
            print(f"{entry.name} is now the active model")
        else:
            try:  # notices (and records) a broken active model before listing
                registry.active()
            except ModelError as exc:
                sys.stderr.write(f"digitpad: warning: {exc}\n")
            rows = [_row(e) for e in registry.list()]
            if args.version:
                raise UsageError("models list takes no VERSION")
            print(json.dumps(rows, indent=2) if args.json else _table(rows))
    # listing reads the registry twice (the active model, then every model): warn once
    for text in dict.fromkeys(str(w.message) for w in caught):
        sys.stderr.write(f"digitpad: warning: {text}\n")
    return 0
