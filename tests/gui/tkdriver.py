"""Driving the window in this process: pump its Tk loop, make gestures with Tk events, and a
fake recognition to review (so a test needs no model)."""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable, Sequence
from typing import Any

from digitpad.types import Alternative, Box, Digit, PageResult


def pump(app: Any, until: Callable[[], object], timeout: float = 20.0) -> None:
    """Run the Tk loop until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached while pumping Tk events")
        app.root.update()
        time.sleep(0.003)


def pump_for(app: Any, seconds: float) -> None:
    """Run the Tk loop for ``seconds``: long enough for anything already due to happen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.root.update()
        time.sleep(0.003)


def fake_result(model: str = "v1") -> PageResult:
    """A confident "7" and an unsure "1" on a 1000x700 page."""
    digits = (
        Digit(Box(100, 100, 160, 200), "7", 0.95, (Alternative("1", 0.03),)),
        Digit(Box(300, 100, 360, 200), "1", 0.55, (Alternative("7", 0.4),)),
    )
    return PageResult(digits, "71", 1000, 700, model, 3.0)


def drag(canvas: tk.Canvas, points: Sequence[tuple[int, int]], button: int = 1) -> None:
    """Press at the first point, move through the others, release at the last."""
    canvas.event_generate(f"<ButtonPress-{button}>", x=points[0][0], y=points[0][1])
    for x, y in points[1:]:
        canvas.event_generate(f"<B{button}-Motion>", x=x, y=y)
    canvas.event_generate(f"<ButtonRelease-{button}>", x=points[-1][0], y=points[-1][1])
