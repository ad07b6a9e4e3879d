"""The whole loop on a real window, for the README's screenshots (not part of the test suite:
it runs a real retrain, about a minute).

    nice -n 10 .venv/bin/python tests/gui/walkthrough.py [--pages 3]

Draws pages of digits with the mouse, recognises, accepts and saves each (the counter moves),
then retrains in the background while drawing goes on, waits for the verdict and opens the
Stats window. Screenshots go to test-artifacts/gui/walkthrough-*.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_app_window import _crop_window, _draw
from xsession import AppProcess, XServer

PAGES = ("1704", "7410", "4071", "0417", "1470")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="digitpad walkthrough screenshots")
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args(argv)
    x = XServer()
    tmp = Path(tempfile.mkdtemp(prefix="digitpad-walkthrough-"))
    app = AppProcess(x, tmp / "home", tmp / "trace.jsonl")
    try:
        ready = app.wait("ready")
        app.wait("model", timeout=60)
        canvas, window = ready["canvas"], ready["window"]
        for i in range(args.pages):
            if i:
                x.xdotool("key", "ctrl+n")
            _draw(x, canvas, PAGES[i % len(PAGES)])
            x.xdotool("key", "ctrl+r")
            rec = app.wait("recognised")
            print(f"page {i + 1}: read {rec['text']!r} in {rec['ms_to_boxes']:.0f} ms")
            x.xdotool("key", *["Return"] * rec["n"], "ctrl+s")
            app.wait("saved")
            counter = app.wait(
                "counter",
                where=lambda e: "reviewed" in e["text"] and "no digits" not in e["text"],
            )
            print("  ", counter["text"])
        _crop_window(x.screenshot("walkthrough-1-saved"), window)

        x.xdotool("key", "ctrl+t")
        app.wait("retrain_started")
        time.sleep(8)
        x.xdotool("key", "ctrl+n")  # the window keeps working while the model trains
        _draw(x, canvas, "17")
        x.xdotool("key", "ctrl+r")
        app.wait("recognised")
        _crop_window(x.screenshot("walkthrough-2-retraining"), window)
        verdict = app.wait("retrain_exit", timeout=400)
        print("retrain:", verdict["message"])
        if verdict["promoted"]:
            app.wait("model", where=lambda e: True)
        time.sleep(0.5)
        _crop_window(x.screenshot("walkthrough-3-retrained"), window)
        x.xdotool("key", "ctrl+i")
        time.sleep(1.5)
        x.screenshot("walkthrough-4-stats")
    finally:
        app.stop()
        x.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
