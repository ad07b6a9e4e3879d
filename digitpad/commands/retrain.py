"""``digitpad retrain``: fine-tune the active model on your corrections; promote it only if it is
no worse (held-out corrections, the synthetic regression set, every digit).

``--progress json`` (for the app) prints one JSON object per line on stdout and nothing else; the
last line has ``phase`` "done" or "failed", ``reason``, ``version``, ``promoted`` and ``message``.
SIGINT/SIGTERM cancel cleanly: the active model is unchanged and nothing half-written is left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

from digitpad.commands import positive_int, positive_seconds

HELP = "retrain the model on your corrections; the new model is used only if it is no worse"

EXIT_CANCELLED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        metavar="N",
        help="passes over the training set (default 5)",
    )
    parser.add_argument(
        "--max-seconds",
        type=positive_seconds,
        default=None,
        metavar="S",
        help="stop training after S seconds and keep the model so far (default 45)",
    )
    parser.add_argument(
        "--progress",
        choices=("bar", "json", "none"),
        default="bar",
        help="bar for people (default), json lines for programs, or none",
    )
    parser.add_argument(
        "--from-scratch",
        action="store_true",
        help="train a new model instead of fine-tuning the active one",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="promote the new model even if the gate says it is worse",
    )


@contextlib.contextmanager
def _cancel_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM set an event the retrain polls; a second SIGINT interrupts at once."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _stdout_for_json() -> Iterator[TextIO]:
    """A private stream to the real stdout, with fd 1 pointed at stderr meanwhile, so a stray
    print from any library (torch, onnx) cannot break the app's line protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    out = os.fdopen(os.dup(saved), "w", buffering=1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield out
    finally:
        out.flush()
        os.dup2(saved, 1)
        os.close(saved)
        out.close()


def run(args: argparse.Namespace) -> int:
    from digitpad.errors import DigitpadError, os_error_line
    from digitpad.home import resolve_home
    from digitpad.progress import BarSink, JsonLinesSink, ProgressEvent, null_sink
    from digitpad.retrain.run import RetrainOptions, RetrainResult, retrain

    mode = args.progress
    home = resolve_home(getattr(args, "home", None))
    defaults = RetrainOptions()
    options = RetrainOptions(
        epochs=args.epochs or defaults.epochs,
        max_seconds=args.max_seconds if args.max_seconds is not None else defaults.max_seconds,
        from_scratch=args.from_scratch,
        force=args.force,
    )
    with contextlib.ExitStack() as stack:
        stream = stack.enter_context(_stdout_for_json()) if mode == "json" else sys.stdout
        sink = {"json": JsonLinesSink(stream), "bar": BarSink(), "none": null_sink}[mode]
        stop = stack.enter_context(_cancel_on_signals())
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("default")

        def progress(event: ProgressEvent) -> None:
            _flush_warnings(caught, sink if mode == "json" else None)
            sink(event)

        try:
            result = retrain(home, options, progress=progress, should_stop=stop.is_set)
        except (DigitpadError, OSError) as exc:
            # a full disk under the models folder, say: the app still gets its final line
            if mode != "json":
                raise
            text = os_error_line(exc) if isinstance(exc, OSError) else str(exc)
            result = RetrainResult("failed", "error", None, False, text)
        except KeyboardInterrupt:  # a second Ctrl+C: stop at once, and still end the protocol
            if mode != "json":
                raise
            # it may have landed after the new model was promoted: no claim either way
            text = "retraining interrupted at once (a second Ctrl+C); `digitpad models` shows "
            text += "which model is active"
            result = RetrainResult("failed", "interrupted", None, False, text)
        _flush_warnings(caught, sink if mode == "json" else None)
        if mode == "json":
            sink(result.to_event())
        else:
            if isinstance(sink, BarSink) and sink.enabled:
                sys.stderr.write("\n")  # end the bar's line before the verdict
            print(result.message, file=stream)
    if result.reason in ("cancelled", "interrupted"):
        return EXIT_CANCELLED
    return 0 if result.phase == "done" or result.reason == "no_corrections" else 1


def _flush_warnings(caught: list[warnings.WarningMessage], sink: Any) -> None:
    """Model fallbacks reach the person (a "warning" event for the app, a line on stderr);
    library warnings (torch deprecations...) go to stderr only, once."""
    from digitpad.progress import ProgressEvent
    from digitpad.registry import ModelFallbackWarning

    seen = set()
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, ModelFallbackWarning):
            if sink is None:
                sys.stderr.write(f"digitpad: warning: {text}\n")
            else:
                sink(ProgressEvent("warning", message=text))
        elif text not in seen:
            seen.add(text)
            sys.stderr.write(warnings.formatwarning(text, w.category, w.filename, w.lineno))
    caught.clear()
