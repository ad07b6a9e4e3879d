"""Strokes whose button release is lost, review sessions brought back by undo, the shortcuts
in the Stats window, the pen width's slider (helper-53's findings), in the real window."""

from __future__ import annotations

import pytest
from tkdriver import drag, fake_result, pump
from xsession import missing_tools

pytestmark = pytest.mark.gui

if missing_tools():
    pytest.skip(f"needs {', '.join(missing_tools())}", allow_module_level=True)
pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")


def _press_and_move(canvas, points):
    """A stroke whose button release never comes (a dialog took it)."""
    canvas.event_generate("<ButtonPress-1>", x=points[0][0], y=points[0][1])
    for x, y in points[1:]:
        canvas.event_generate("<B1-Motion>", x=x, y=y)


def test_a_stroke_whose_release_is_lost_is_ended_by_the_next_press_or_command(make_app):
    app = make_app()
    ed, c = app.editor, app.view.canvas
    _press_and_move(c, [(200, 200), (200, 260), (200, 320)])
    assert ed.drawing.drawing
    drag(c, [(400, 200), (400, 320)])  # the next stroke ends the first before it begins
    assert not ed.drawing.drawing
    snapshot = ed.drawing.snapshot().array()
    assert (snapshot == ed.drawing.array()).all()  # what Save keeps is what is on screen
    for x in (200, 400):
        px, py = app.view.to_page(x, 260)
        assert snapshot[round(py), round(px)].max() < 100
    _press_and_move(c, [(600, 200), (600, 320)])
    app.commands.run("undo")  # a command ends the open stroke, then undoes it
    assert not ed.drawing.drawing
    px, py = app.view.to_page(600, 260)
    assert ed.drawing.array()[round(py), round(px)].min() > 200
    app.commands.run("undo")
    app.commands.run("undo")
    assert not ed.drawing.has_ink() and not ed.history.can_undo


def test_an_error_dialog_ends_an_open_stroke(make_app, dialogs):
    app = make_app()
    _press_and_move(app.view.canvas, [(200, 200), (200, 320)])
    app.show_error(ValueError("boom"))
    assert not app.editor.drawing.drawing and app.editor.history.can_undo


def test_a_session_brought_back_by_undo_replaces_its_own_save(make_app, home):
    # Recognise (A), Save; Recognise again (B), Save; undo to A, more ink, Save: A's review
    # is replaced, not counted a second time
    from digitpad.store import CorrectionStore

    app = make_app()
    ed = app.editor
    for _ in range(2):
        ed.set_result(fake_result())
        app.commands.run("save")
        pump(app, lambda: not ed.dirty)
    app.commands.run("undo")  # back to session A
    app.set_tool("pen")
    drag(app.view.canvas, [(200, 500), (260, 500)])
    app.commands.run("save")
    pump(app, lambda: not ed.dirty)
    with CorrectionStore.open(home) as store:
        stats = store.stats()
    assert (stats.reviews, stats.overall.total) == (2, 4)


def test_shortcuts_work_from_the_stats_window(make_app):
    app = make_app()
    app.editor.set_result(fake_result())
    app.commands.run("stats")
    top = app.accuracy.window.top
    top.focus_force()
    app.root.update()
    assert str(top.focus_get()).startswith(str(top))  # the keys go to the Stats window
    top.event_generate("<KeyPress-4>", keysym="4")
    assert app.editor.current.label == "4"
    top.event_generate("<Escape>")
    assert not app.accuracy.window.alive


def test_the_pen_width_slider_goes_as_far_as_the_keys(make_app):
    app = make_app()
    for _ in range(40):
        app.commands.run("pen_thicker")
    assert app.pen_width == app.side.width.get() == 60
    assert float(app.side.width_scale.cget("to")) == 60  # not pinned at 40 below it


def test_a_page_is_halved_and_looked_at_for_ink_off_the_window_thread(
    make_app, tmp_path, monkeypatch
):
    # helper-53: opening a 108 MP scan held the window 0.35-0.6 s, halving it and looking
    # for its ink on the Tk thread
    import threading

    import numpy as np
    from PIL import Image

    from digitpad.ui import canvas_view, drawing, page_control

    threads: list[str] = []
    real_make, real_look = canvas_view.make_pyramid, drawing.Drawing._look_at

    def make(image):
        threads.append(threading.current_thread().name)
        return real_make(image)

    def look(self, region):
        threads.append(threading.current_thread().name)
        return real_look(self, region)

    path = tmp_path / "scan.png"
    Image.fromarray(np.full((3000, 4500, 3), 240, np.uint8)).save(path)
    app = make_app()
    monkeypatch.setattr(page_control, "make_pyramid", make)
    monkeypatch.setattr(canvas_view, "make_pyramid", make)
    monkeypatch.setattr(drawing.Drawing, "_look_at", look)
    app.pages.load(str(path))
    pump(app, lambda: app.editor.source == "loaded")
    app.refresh()
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_a_key_pressed_with_the_pen_down_leaves_the_stroke_going(make_app):
    # helper-54: the first mend ended the stroke at any key, so the rest of the drag drew
    # nothing; only a key whose command opens a dialog (Ctrl+O) ends it
    app = make_app()
    ed, c = app.editor, app.view.canvas
    _press_and_move(c, [(200, 200), (200, 260)])
    c.event_generate("<bracketright>", state=0x100)  # ] with the left button held
    assert ed.drawing.drawing and app.pen_width == 10
    c.event_generate("<B1-Motion>", x=200, y=380)
    c.event_generate("<ButtonRelease-1>", x=200, y=380)
    px, py = app.view.to_page(200, 360)
    assert ed.drawing.array()[round(py), round(px)].max() < 100  # drawn after the key too
    assert not ed.drawing.drawing


def test_ctrl_o_with_the_pen_down_ends_the_stroke_before_its_dialogs(
    make_app, monkeypatch, dialogs
):
    from tkinter import filedialog

    seen, answers = dialogs
    answers["askokcancel"] = True  # discard the drawing
    app = make_app()
    ed, c = app.editor, app.view.canvas
    asked: list[bool] = []
    monkeypatch.setattr(
        filedialog, "askopenfilename", lambda **kw: asked.append(ed.drawing.drawing) or ""
    )
    _press_and_move(c, [(200, 200), (200, 300)])
    c.event_generate("<Control-o>", state=0x100 | 0x4)
    # ended (an undo step) before the "discard?" prompt, which counted its ink as unsaved
    assert [kind for kind, _ in seen] == ["askokcancel"] and asked == [False]


def test_the_title_shows_a_file_name_without_its_control_characters(make_app):
    app = make_app()
    app.page_name = "scan\n10.00.00\u202fAM.png"  # a newline; a macOS screenshot's space
    app.refresh()
    assert app.root.title() == "digitpad — scan?10.00.00\u202fAM.png"
