"""The real window under Xvfb, driven by xdotool: draw with the mouse, recognise, fix with keys,
save, and find the review in the store. Screenshots go to test-artifacts/gui/."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from xsession import AppProcess, XServer, missing_tools, stroke_args

pytestmark = pytest.mark.gui

if missing_tools():
    pytest.skip(
        f"real-window tests need {', '.join(missing_tools())} "
        "(apt-get install xvfb xdotool x11-utils)",
        allow_module_level=True,
    )
pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")


def _usable_model(home) -> None:
    from digitpad.errors import ModelError
    from digitpad.registry import active_model_path

    try:
        active_model_path(home)
    except ModelError as exc:
        pytest.skip(f"no model to recognise with yet: {exc}")


@pytest.fixture
def xserver():
    x = XServer()
    yield x
    x.close()


def _digit_strokes(digit: str, cx: float, top: float, h: float) -> list[list[tuple[float, float]]]:
    """Mouse strokes for a digit drawn the way a person draws it (a 4 in two strokes)."""
    w = h * 0.55
    bottom = top + h
    if digit == "1":
        return [[(cx - w * 0.3, top + h * 0.18), (cx, top), (cx, bottom)]]
    if digit == "7":
        return [[(cx - w / 2, top), (cx + w / 2, top), (cx - w * 0.1, bottom)]]
    if digit == "0":
        pts = [
            (cx + w / 2 * math.sin(a), top + h / 2 - h / 2 * math.cos(a))
            for a in [i * 2 * math.pi / 36 for i in range(38)]
        ]
        return [pts]
    if digit == "4":
        return [
            [(cx + w * 0.15, top), (cx - w / 2, top + h * 0.62), (cx + w / 2, top + h * 0.62)],
            [(cx + w * 0.22, top + h * 0.3), (cx + w * 0.22, bottom)],
        ]
    raise ValueError(digit)


def _draw(x: XServer, canvas: list[int], digits: str) -> None:
    cx0, cy0, cw, ch = canvas
    h = ch * 0.3
    for i, d in enumerate(digits):
        cx = cx0 + cw * (0.2 + 0.18 * i)
        for stroke in _digit_strokes(d, cx, cy0 + ch * 0.25, h):
            x.xdotool(*stroke_args(stroke))


def _crop_window(path: Path, window: list[int]) -> None:
    from PIL import Image

    wx, wy, ww, wh = window
    with Image.open(path) as img:
        # No window manager: the window sits at the top-left, its menu bar above ``wy``.
        img.crop((wx, 0, wx + ww, wy + wh)).save(path)


def test_draw_recognise_correct_save_with_mouse_and_keys(xserver, home, tmp_path):
    _usable_model(home)
    app = AppProcess(xserver, home.root, tmp_path / "trace.jsonl")
    try:
        ready = app.wait("ready")
        app.wait("model")
        canvas, window = ready["canvas"], ready["window"]
        _draw(xserver, canvas, "1704")
        shot = xserver.screenshot("01-drawn")
        _crop_window(shot, window)

        xserver.xdotool("key", "ctrl+r")
        rec = app.wait("recognised")
        n, queue = rec["n"], rec["queue"]
        assert n >= 3, rec  # four digits drawn far apart: at least three found
        assert rec["torch_loaded"] is False  # the UI process never imports torch
        shot = xserver.screenshot("02-recognised")
        _crop_window(shot, window)

        # Tab then Shift+Tab: back on the least confident box; fix it with a digit key.
        xserver.xdotool("key", "Tab", "shift+Tab")
        new_label = "8" if queue[0] != "8" else "9"
        xserver.xdotool("key", new_label)
        # Enter accepts it and goes on to the next box; Delete says that one is not a digit.
        xserver.xdotool("key", "Return", "Delete")
        # N adds a box at the pointer (empty paper, bottom right), then its digit; undo/redo it.
        cx0, cy0, cw, ch = canvas
        xserver.xdotool("mousemove", round(cx0 + cw * 0.8), round(cy0 + ch * 0.8))
        xserver.xdotool("key", "n", "5", "ctrl+z", "ctrl+y")
        xserver.xdotool("key", "question")
        shot = xserver.screenshot("05-help")
        _crop_window(shot, window)
        xserver.xdotool("key", "Escape")
        shot = xserver.screenshot("03-corrected")
        _crop_window(shot, window)

        xserver.xdotool("key", "ctrl+s")
        saved = app.wait("saved")
        assert saved["boxes"] == n + 1
        counter = app.wait(
            "counter", where=lambda e: "reviewed" in e["text"] and "no digits" not in e["text"]
        )
        assert f"{n + 1} digits reviewed" in counter["text"], counter
        shot = xserver.screenshot("04-saved")
        _crop_window(shot, window)

        xserver.xdotool("key", "ctrl+q")  # saved: closes without asking
        assert app.proc.wait(timeout=10) == 0, app.stderr()
    finally:
        app.stop()

    from digitpad.store import CorrectionStore

    with CorrectionStore(home.store_path) as store:
        stats = store.stats()
    assert stats.reviews == 1
    assert stats.outcomes == {
        **({"accepted": n - 2} if n > 2 else {}),
        "relabelled": 1,
        "deleted": 1,
        "added": 1,
    }
    assert stats.per_digit[new_label].total >= 1 and stats.per_digit["5"].total == 1


def test_unreadable_page_gives_one_line_dialog_and_unsaved_drawing_is_protected(
    xserver, home, tmp_path
):
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"this is not a png")
    app = AppProcess(xserver, home.root, tmp_path / "trace.jsonl", str(bad))
    try:
        error = app.wait("error")
        ready = app.wait("ready")
        assert error["message"] == "scan.png: not an image digitpad can read"
        shot = xserver.screenshot("06-error-dialog")
        _crop_window(shot, ready["window"])
        _click_dialog(xserver, "^digitpad$")  # OK

        # Draw, then try New: the app asks first; cancelling keeps the drawing.
        _draw(xserver, ready["canvas"], "1")
        xserver.xdotool("key", "ctrl+n")
        _click_dialog(xserver, "^Unsaved drawing$", 1, 2)  # Cancel: keep the drawing
        xserver.xdotool("mousemove", ready["canvas"][0] + 20, ready["canvas"][1] + 20)
        xserver.xdotool("key", "ctrl+q")
        _click_dialog(xserver, "^Unsaved drawing$", 0, 2)  # closing asks too; OK discards
        assert app.proc.wait(timeout=10) == 0, app.stderr()
    finally:
        app.stop()


def _click_dialog(x: XServer, title: str, button: int = 0, buttons: int = 1) -> None:
    """Wait for the dialog titled ``title`` and click its ``button``-th button (of ``buttons``).

    Tk message boxes centre fixed-width buttons along the bottom, 139 px apart. They are
    clicked, not keyed: without a window manager, Tk's grab keeps keys from reaching them.
    """
    ids = x.xdotool("search", "--sync", "--onlyvisible", "--name", title).split()
    geo = dict(kv.split("=") for kv in x.xdotool("getwindowgeometry", "--shell", ids[-1]).split())
    left, top, width, height = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    bx = left + width / 2 + (button - (buttons - 1) / 2) * 139
    x.xdotool("mousemove", round(bx), top + height - 25, "click", "1")
