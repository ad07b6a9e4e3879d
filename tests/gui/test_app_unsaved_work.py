"""The window in this process under Xvfb, where work could be lost or the window stall: edits
made while a page loads or a save runs, Clear after a save, quitting with a retrain running, the
Stats chart after a save, the first render of a big photo, N off the page, and when Clear is
on."""

from __future__ import annotations

import sys
import textwrap
import threading

import numpy as np
import pytest
from PIL import Image
from tkdriver import drag, fake_result, pump, pump_for
from xsession import missing_tools

pytestmark = pytest.mark.gui

if missing_tools():
    pytest.skip(f"needs {', '.join(missing_tools())}", allow_module_level=True)
pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")


@pytest.fixture
def gate(monkeypatch):
    """Holds a worker call until the test opens the gate: ``gate.hold(module, name)``."""

    class Gate:
        def __init__(self) -> None:
            self.open = threading.Event()

        def hold(self, module, name: str) -> None:
            real = getattr(module, name)

            def held(*args, **kwargs):
                self.open.wait(timeout=20)
                return real(*args, **kwargs)

            monkeypatch.setattr(module, name, held)

    g = Gate()
    yield g
    g.open.set()  # never leave a worker waiting


def _relabelled_while_saves_wait(make_app, gate):
    """An app whose recognised page has one box relabelled 4, its saves held at the gate."""
    from digitpad.ui import services

    gate.hold(services, "save_review")
    app = make_app()
    app.editor.set_result(fake_result())
    app.commands.run("label_4")
    return app


def _the_9_saved_as_one_review(app, gate, home) -> None:
    """Once the held saves run, the new page comes and the store holds one review: the box
    relabelled 4, then 9, saved as 9 (the second save replaced the first)."""
    from digitpad.store import CorrectionStore

    gate.open.set()
    pump(app, lambda: not app.editor.recognised)
    with CorrectionStore.open(home) as store:
        stats = store.stats()
        assert store.review_ids() == [1]
    assert stats.per_digit["9"].total == 1 and stats.per_digit["4"].total == 0


def _page_file(tmp_path):
    page = np.full((300, 400, 3), 255, np.uint8)
    page[100:200, 190:200] = 0
    path = tmp_path / "scan.png"
    Image.fromarray(page).save(path)
    return path


def test_drawing_made_while_a_page_loads_is_asked_about(make_app, dialogs, gate, tmp_path):
    from digitpad.ui import services

    seen, _ = dialogs  # askokcancel answers False: keep the drawing
    gate.hold(services, "load_page")
    app = make_app()
    app.pages.load(str(_page_file(tmp_path)))
    drag(app.view.canvas, [(200, 200), (200, 300)])  # the window stays usable meanwhile
    gate.open.set()
    pump(app, lambda: seen)
    assert seen[-1][0] == "askokcancel" and "scan.png" in seen[-1][1]
    assert app.page_name == "new drawing" and app.editor.drawing.has_ink()  # kept (Cancel)


def test_open_is_disabled_while_a_page_loads(make_app, gate, tmp_path):
    from digitpad.ui import services

    gate.hold(services, "load_page")
    app = make_app()
    app.pages.load(str(_page_file(tmp_path)))
    assert not app.commands.enabled("open")  # a second Open would be dropped
    gate.open.set()
    pump(app, lambda: app.page_name == "scan.png")
    assert app.commands.enabled("open")


def test_page_loaded_unasked_when_nothing_changed_while_it_loaded(make_app, dialogs, tmp_path):
    seen, _ = dialogs
    app = make_app()
    app.pages.load(str(_page_file(tmp_path)))
    pump(app, lambda: app.page_name == "scan.png")
    assert seen == [] and app.editor.size == (400, 300)


def test_yes_to_save_while_a_save_runs_saves_the_later_edits_too(make_app, dialogs, gate, home):

    _, answers = dialogs
    app = _relabelled_while_saves_wait(make_app, gate)
    app.commands.run("save")  # still writing...
    app.commands.run("label_9")  # ...when the person fixes one more box
    answers["askyesnocancel"] = True  # and starts a new page, saving first
    app.commands.run("new")
    assert app.editor.recognised  # the page stays until the save has committed
    _the_9_saved_as_one_review(app, gate, home)


def test_clear_after_save_never_saves_a_blank_page_over_the_review(make_app, dialogs, home):
    from digitpad.store import CorrectionStore

    seen, answers = dialogs
    app = make_app()
    drag(app.view.canvas, [(200, 200), (200, 300)])
    app.editor.set_result(fake_result())
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    app.commands.run("clear")
    assert not app.commands.enabled("save")
    answers["askokcancel"] = True
    app.commands.run("new")
    assert seen[-1][0] == "askokcancel"  # a blank page to discard, not a review to save
    pump(app, lambda: not app.jobs.any_busy)
    with CorrectionStore.open(home) as store:
        assert store.stats().overall.total == 2


def test_cancelling_quit_keeps_the_retrain_running(make_app, dialogs, monkeypatch, tmp_path):
    import digitpad.ui.retrain_control as retrain_control

    seen, answers = dialogs
    script = tmp_path / "slow_retrain.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, time
            for i in range(1000):
                print(json.dumps({"phase": "train", "step": i, "total": 1000}), flush=True)
                time.sleep(0.02)
            """
        )
    )
    monkeypatch.setattr(retrain_control, "retrain_argv", lambda root: [sys.executable, script])
    app = make_app()
    app.editor.set_result(fake_result())
    app.commands.run("retrain")
    pump(app, lambda: "train" in app.status.progress_text.cget("text"))
    answers["askokcancel"] = True  # "Cancel the retrain and quit?" OK...
    answers["askyesnocancel"] = None  # ...then Cancel at "Save your corrections?"
    app.commands.run("quit")
    assert [kind for kind, _ in seen] == ["askokcancel", "askyesnocancel"]
    assert not app.closed
    job = app.retrainer.job
    assert job is not None and not job._cancelled and job.running
    app.commands.run("cancel_retrain")
    pump(app, lambda: not app.retrainer.running)


def test_stats_chart_follows_saves_while_it_is_open(make_app):
    app = make_app()
    app.editor.set_result(fake_result())
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    app.commands.run("stats")
    win = app.accuracy.window
    pump(app, lambda: len(win.timeline) == 1)
    app.editor.set_result(fake_result())  # another review session
    app.commands.run("save")
    pump(app, lambda: len(win.timeline) == 2)
    assert win.stats is not None
    pump(app, lambda: win.stats.reviews == 2)


def test_first_render_of_a_big_page_samples_its_own_pyramid(make_app, monkeypatch):
    from digitpad.ui.editor import Editor

    app = make_app()
    big = Editor(np.full((3000, 4500, 3), 255, np.uint8), source="loaded")
    sizes = []
    real = Image.Image.resize

    def resize(self, size, *args, **kwargs):
        sizes.append(self.size)
        return real(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", resize)
    app.show_page(big, "photo.jpg")
    # Fitted into the window, the page is sampled from a halved copy, never at full size
    # (the previous page's pyramid had one level, which made it crop and resize 13.5 MP).
    assert sizes and max(w for w, _ in sizes) <= 4500 // 2


def test_new_box_off_the_page_says_why_nothing_was_added(make_app, monkeypatch):
    app = make_app()
    monkeypatch.setattr(app.view, "pointer_page_point", lambda: (-500.0, -500.0))
    app.commands.run("new_box")
    assert app.editor.boxes == ()
    assert app.status.message.cget("text").startswith("No box added")


def test_recognise_makes_the_page_array_off_the_tk_thread(make_app, monkeypatch):
    from digitpad.ui.drawing import Drawing

    app = make_app()
    if app.recogniser is None:
        pytest.skip("no model yet")
    on_tk_thread = []
    real = Drawing.array

    def array(self):
        on_tk_thread.append(threading.current_thread() is threading.main_thread())
        return real(self)

    monkeypatch.setattr(Drawing, "array", array)
    drag(app.view.canvas, [(200, 200), (200, 400)])
    app.commands.run("recognise")
    pump(app, lambda: app.editor.recognised)
    assert True not in on_tk_thread  # a 100 MP scan took 1.3 s to copy into an array there
    assert [d.label for d in app.editor.visible()] == ["1"]


def test_an_edit_made_after_yes_save_first_is_saved_before_the_switch(
    make_app, dialogs, gate, home
):

    seen, answers = dialogs
    app = _relabelled_while_saves_wait(make_app, gate)
    answers["askyesnocancel"] = True
    app.commands.run("new")  # "Yes, save first": the save is still writing...
    asked = len(seen)
    app.commands.run("label_9")  # ...when the person fixes the box once more
    _the_9_saved_as_one_review(app, gate, home)
    assert len(seen) == asked


def test_a_page_switch_overtaken_by_another_page_is_dropped(make_app, dialogs, gate):

    _, answers = dialogs
    app = _relabelled_while_saves_wait(make_app, gate)
    answers["askyesnocancel"] = True
    app.commands.run("new")  # save first, then a new page...
    answers["askyesnocancel"] = False
    app.commands.run("new")  # ...but the person discards and starts one at once
    serial = app.page_serial
    drag(app.view.canvas, [(200, 200), (200, 300)])
    gate.open.set()
    pump(app, lambda: not app.jobs.any_busy)
    pump_for(app, 0.3)  # any page switch still due would run now
    assert app.page_serial == serial and app.editor.drawing.has_ink()
    assert "overtaken" in app.status.message.cget("text")


def test_a_page_read_during_a_stroke_waits_for_it_and_asks(make_app, dialogs, gate, tmp_path):
    from digitpad.ui import services

    seen, _ = dialogs  # askokcancel answers False: keep the drawing
    gate.hold(services, "load_page")
    app = make_app()
    app.pages.load(str(_page_file(tmp_path)))
    canvas = app.view.canvas
    canvas.event_generate("<ButtonPress-1>", x=200, y=200)
    canvas.event_generate("<B1-Motion>", x=200, y=260)
    gate.open.set()
    pump(app, lambda: not app.jobs.any_busy)
    pump_for(app, 0.3)  # the page is read; the stroke goes on
    assert seen == [] and app.page_name != "scan.png"
    canvas.event_generate("<B1-Motion>", x=200, y=300)
    canvas.event_generate("<ButtonRelease-1>", x=200, y=300)
    pump(app, lambda: bool(seen))
    assert seen[0][0] == "askokcancel" and app.page_name != "scan.png"
    assert app.editor.drawing.has_ink()


def test_closing_waits_for_a_save_that_has_yet_to_start(make_app, dialogs, gate, home):
    from digitpad.store import CorrectionStore

    _, answers = dialogs
    app = _relabelled_while_saves_wait(make_app, gate)
    app.commands.run("save")  # still writing...
    app.commands.run("label_9")
    answers["askyesnocancel"] = True
    app.commands.run("new")  # ...the later edits wait to be saved
    answers["askyesnocancel"] = False
    app.commands.run("new")  # a clean new page
    app.quit()
    assert not app.closed  # not before the waiting save has committed
    gate.open.set()
    pump(app, lambda: app.closed)
    with CorrectionStore.open(home) as store:
        assert store.stats().per_digit["9"].total == 1


def test_clear_is_off_until_there_is_something_to_clear(make_app):
    app = make_app()
    assert not app.commands.enabled("clear")  # a blank page
    drag(app.view.canvas, [(200, 200), (200, 300)])
    pump(app, lambda: app.commands.enabled("clear"))
    app.commands.run("clear")
    assert not app.commands.enabled("clear")
    app.editor.set_result(fake_result())  # boxes on a blank page: they can go
    assert app.commands.enabled("clear")


def test_save_copies_no_page_on_the_tk_thread_and_saves_the_page_as_it_was(
    make_app, gate, home, monkeypatch
):
    from digitpad.store import CorrectionStore
    from digitpad.ui import services
    from digitpad.ui.drawing import Drawing, PageSnapshot

    gate.hold(services, "save_review")
    app = make_app()
    drag(app.view.canvas, [(200, 200), (200, 300)])
    app.editor.set_result(fake_result())
    at_save = np.array(app.editor.drawing.image)
    on_tk_thread = []
    for cls in (Drawing, PageSnapshot):
        real = cls.array

        def array(self, real=real):
            on_tk_thread.append(threading.current_thread() is threading.main_thread())
            return real(self)

        monkeypatch.setattr(cls, "array", array)
    app.commands.run("save")
    drag(app.view.canvas, [(300, 200), (300, 300)])  # drawn while the save waits to write
    gate.open.set()
    pump(app, lambda: not app.pages.saving())
    # A 12 MP page took 60 ms to copy there, at every Save.
    assert on_tk_thread and True not in on_tk_thread
    with CorrectionStore.open(home) as store:
        assert store.review_ids() == [1]
        (truth,) = store.page_truths()
        saved = store.page_image(truth.page_hash)
    assert np.array_equal(saved, at_save)  # the later stroke is not in it
    assert app.editor.dirty and not np.array_equal(np.array(app.editor.drawing.image), at_save)


def test_recognise_copies_no_pixels_of_the_page_on_the_tk_thread(make_app, monkeypatch):
    from digitpad.ui.drawing import PageSnapshot

    app = make_app()
    if app.recogniser is None:
        pytest.skip("no model yet")
    drag(app.view.canvas, [(200, 200), (200, 400)])
    page = app.editor.drawing.image
    copied = []
    real_copy, real_array = Image.Image.copy, PageSnapshot.array

    def copy(self):
        if self is page:  # a memory copy of a 12 MP photo took 32 ms on the Tk thread
            copied.append(threading.current_thread() is threading.main_thread())
        return real_copy(self)

    def array(self):
        copied.append(threading.current_thread() is threading.main_thread())
        return real_array(self)

    monkeypatch.setattr(Image.Image, "copy", copy)
    monkeypatch.setattr(PageSnapshot, "array", array)
    app.commands.run("recognise")
    pump(app, lambda: app.editor.recognised)
    assert copied and True not in copied
    assert [d.label for d in app.editor.visible()] == ["1"]


@pytest.mark.parametrize("change", ["clear", "undo"])
def test_a_reading_of_ink_cleared_or_undone_meanwhile_is_dropped(make_app, change):
    # its boxes would sit on blank paper, and Save would store them as reviewed digits
    app = make_app()
    if app.recogniser is None:
        pytest.skip("no model yet")
    drag(app.view.canvas, [(200, 200), (200, 400)])
    app.commands.run("recognise")
    app.commands.run(change)  # before the reading comes back (nothing is pumped in between)
    pump(
        app, lambda: not app.jobs.busy("recognise") and "changed" in app.status.message.cget("text")
    )
    assert not app.editor.recognised and list(app.editor.visible()) == []
    assert not app.commands.enabled("save")
    # a stroke added meanwhile is no reason to drop it: the reading still holds
    drag(app.view.canvas, [(200, 200), (200, 400)])
    app.commands.run("recognise")
    drag(app.view.canvas, [(400, 200), (400, 400)])
    pump(app, lambda: app.editor.recognised)
    assert [d.label for d in app.editor.visible()] == ["1"]
