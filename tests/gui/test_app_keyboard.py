"""Keyboard-first editing in the real window under Xvfb: the view follows the selection, keys
held with other modifiers do nothing, Ctrl+Shift+Z redoes, a small selected box moves when
dragged from its middle (helper-50's findings)."""

from __future__ import annotations

import pytest
from PIL import Image
from tkdriver import drag, pump
from xsession import missing_tools

from digitpad.types import Alternative, Box, Digit, PageResult
from digitpad.ui.help_overlay import help_lines

pytestmark = pytest.mark.gui

if missing_tools():
    pytest.skip(f"needs {', '.join(missing_tools())}", allow_module_level=True)
pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")

CONTROL = 0x4


def _far_apart() -> PageResult:
    """An unsure "1" near the top left and a "4" near the far corner of a 1000x700 page."""
    digits = (
        Digit(Box(40, 40, 49, 200), "1", 0.4, (Alternative("7", 0.3),)),
        Digit(Box(900, 600, 960, 690), "4", 0.6, (Alternative("9", 0.3),)),
    )
    return PageResult(digits, "1\n4", 1000, 700, "v1", 3.0)


def _visible(view, box: Box) -> bool:
    cw, ch = view._viewport()
    x0, y0 = view.to_screen(box.x0, box.y0)
    x1, y1 = view.to_screen(box.x1, box.y1)
    return x0 >= 0 and y0 >= 0 and x1 <= cw and y1 <= ch


def test_tab_brings_the_box_it_selects_into_view(make_app):
    app = make_app()
    ed, view = app.editor, app.view
    ed.set_result(_far_apart())
    app.refresh()
    view.scale, view.ox, view.oy = 2.0, 300, 250  # close in on the middle: no box in view
    app.refresh()
    assert not any(_visible(view, b.box) for b in ed.boxes)
    view.canvas.event_generate("<Tab>")
    assert ed.current.label == "4" and _visible(view, ed.current.box)
    view.canvas.event_generate("<Shift-Tab>")
    assert ed.current.label == "1" and _visible(view, ed.current.box)
    for _ in range(40):
        view.canvas.event_generate("<Shift-Right>", keysym="Right", state=0x1)
    assert ed.current.box.x0 == 440 and _visible(view, ed.current.box)  # the nudges followed


def test_keys_held_with_another_modifier_do_nothing_and_ctrl_shift_z_redoes(make_app):
    app = make_app()
    ed, c = app.editor, app.view.canvas
    ed.set_result(_far_apart())
    app.refresh()
    one = ed.current
    c.event_generate("<KeyPress-6>", keysym="6", state=CONTROL)
    c.event_generate("<KeyPress-Left>", keysym="Left", state=CONTROL)
    assert ed.get(one.id) == one  # neither relabelled nor nudged
    c.event_generate("<KeyPress-3>", keysym="3")
    assert ed.current.label == "3"
    c.event_generate("<Control-z>")
    assert ed.current.label == "1"
    c.event_generate("<KeyPress-Z>", keysym="Z", state=CONTROL | 0x1)  # Ctrl+Shift+Z
    assert ed.current.label == "3"


def test_a_narrow_selected_box_moves_when_dragged_from_its_middle(make_app):
    app = make_app()
    ed, view = app.editor, app.view
    ed.set_result(_far_apart())
    app.set_tool("box")
    app.refresh()
    one = ed.current  # 9 page pixels wide: a few on the screen at Fit
    sx, sy = view.to_screen(*one.box.centre)
    drag(view.canvas, [(sx, sy), (sx + 20, sy + 20), (sx + 40, sy + 40)])
    moved = ed.get(one.id).box
    assert (moved.width, moved.height) == (one.box.width, one.box.height)
    assert moved.x0 > one.box.x0 and moved.y0 > one.box.y0
    pump(app, lambda: True)


def test_enter_waits_for_a_new_box_digit_and_keypad_delete_deletes(make_app):
    app = make_app()
    ed, c = app.editor, app.view.canvas
    ed.set_result(_far_apart())
    app.refresh()
    new = ed.add_box(Box(500, 300, 540, 360))
    app.refresh()
    c.event_generate("<Return>")
    assert ed.current.id == new and new not in ed.reviewed  # not checked without a digit
    c.event_generate("<KeyPress-5>", keysym="5")
    c.event_generate("<Return>")
    assert new in ed.reviewed and ed.current.id != new
    c.event_generate("<KP_Delete>")
    assert sum(b.deleted for b in ed.boxes) == 1


def test_a_nudge_on_a_page_seen_whole_moves_a_screen_pixel(make_app, tmp_path):
    path = tmp_path / "scan.png"
    Image.new("RGB", (4000, 3000), "white").save(path)
    app = make_app(page=str(path))
    pump(app, lambda: app.editor.source == "loaded")
    ed, view = app.editor, app.view
    ed.set_result(
        PageResult((Digit(Box(2000, 1500, 2060, 1600), "4", 0.6),), "4", 4000, 3000, "v1", 3.0)
    )
    app.refresh()
    assert view.scale < 0.5
    view.canvas.event_generate("<KeyPress-Right>", keysym="Right")
    assert ed.current.box.x0 - 2000 == round(1 / view.scale) > 1


def test_the_shortcut_list_fits_the_smallest_window(make_app):
    app = make_app()
    app.root.geometry("820x560")
    pump(app, lambda: app.view.canvas.winfo_width() < 700)
    app.root.update()
    accept = app.side.accept  # the side panel's last button: not cut off at the bottom
    assert accept.winfo_y() + accept.winfo_height() <= app.side.frame.winfo_height()
    c = app.view.canvas
    c.event_generate("<question>")
    panel, *texts = c.find_withtag("help")
    px0, py0, px1, py1 = c.bbox(panel)
    boxes = [c.bbox(t) for t in texts]
    assert all(px0 <= x0 and x1 <= px1 and py0 <= y0 and y1 <= py1 for x0, y0, x1, y1 in boxes)
    lines = boxes[1:]  # the title first, then a key and its words per line
    half = (len(help_lines()) + 1) // 2  # lines in the first column
    first, second = lines[: 2 * half], lines[2 * half :]
    assert max(b[2] for b in first) < min(b[0] for b in second)  # the columns do not overlap
    for key, words in zip(lines[0::2], lines[1::2], strict=True):
        assert key[2] < words[0]  # a key ends before its words begin


def test_tab_leaves_a_view_that_shows_the_box_as_it_is(make_app):
    app = make_app()
    ed, view = app.editor, app.view
    at_the_edges = (  # within the view's margin of the page shown whole, but in view
        Digit(Box(2, 2, 30, 60), "1", 0.4),
        Digit(Box(960, 640, 998, 698), "4", 0.6),
    )
    ed.set_result(PageResult(at_the_edges, "1\n4", 1000, 700, "v1", 3.0))
    app.refresh()
    view.fit()
    before = (view.scale, view.ox, view.oy)
    for _ in range(3):
        view.canvas.event_generate("<Tab>")
        assert (view.scale, view.ox, view.oy) == before  # the page shown whole does not pan


def test_digits_work_with_numlock_or_capslock_on(make_app):
    app = make_app()
    ed, c = app.editor, app.view.canvas
    ed.set_result(_far_apart())
    app.refresh()
    for state, digit in ((0x10, "6"), (0x2, "8")):  # Mod2 (NumLock), Lock (CapsLock) on X11
        c.event_generate(f"<KeyPress-{digit}>", keysym=digit, state=state)
        assert ed.current.label == digit
    c.event_generate("<KeyPress-Right>", keysym="Right", state=0x10)
    assert ed.current.box.x0 > 40
