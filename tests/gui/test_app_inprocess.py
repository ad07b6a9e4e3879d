"""The window in this process under Xvfb: gestures through Tk events, zoom on a big photo, error
dialogs, unsaved-work protection, background retrain with progress, cancel and model swap."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tkdriver import drag, fake_result, pump
from xsession import missing_tools

from digitpad.types import Box

pytestmark = pytest.mark.gui

if missing_tools():
    pytest.skip(f"needs {', '.join(missing_tools())}", allow_module_level=True)
pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")


def _has_model(app) -> bool:
    return app.recogniser is not None


def test_gestures_draw_move_resize_add_and_undo(make_app):
    app = make_app()
    view, ed = app.view, app.editor
    c = view.canvas
    drag(c, [(200, 200), (220, 260), (240, 320)])
    assert ed.drawing.has_ink() and ed.history.can_undo
    px, py = view.to_page(220, 260)
    assert ed.drawing.array()[round(py), round(px)].max() < 100  # ink where the pen went

    ed.set_result(fake_result())
    app.set_tool("box")
    app.refresh()
    box = ed.get(ed.review_queue()[1])  # the confident "7" at (100..160, 100..200)
    sx, sy = view.to_screen(130, 150)
    drag(c, [(sx, sy), (sx + 20, sy), (sx + 40, sy)])
    moved = ed.get(box.id).box
    assert moved.x0 > 100 and moved.width == 60 and ed.get(box.id).outcome == "moved"
    sx, sy = view.to_screen(*ed.get(box.id).box.centre)
    drag(c, [(sx, sy), (sx - 2000, sy)])  # dragged far past the left edge: stops there
    assert ed.get(box.id).box == Box(0, moved.y0, 60, moved.y1)
    app.commands.run("undo")
    hx, hy = view.to_screen(moved.x1, moved.y1)  # bottom-right handle
    drag(c, [(hx, hy), (hx + 30, hy + 30)])
    assert ed.get(box.id).box.x1 > moved.x1 and ed.get(box.id).box.x0 == moved.x0

    ex, ey = view.to_screen(600, 400)
    drag(c, [(ex, ey), (ex + 40, ey + 60)])  # drag on empty paper: a new box
    new = ed.current
    assert new is not None and new.added and new.label is None
    c.event_generate("<KeyPress-3>", keysym="3")
    assert ed.current.label == "3"
    for _ in range(4):  # label, new box, resize, move
        app.commands.run("undo")
    assert ed.get(box.id).box == box.box and ed.get(new.id) is None


def test_keys_review_queue_and_side_panel(make_app):
    app = make_app()
    ed = app.editor
    ed.set_result(fake_result())
    app.refresh()
    c = app.view.canvas
    assert ed.current.label == "1"  # least confident first
    assert app.side.big.cget("text") == "1"
    assert "55.0%" in app.side.confidence.cget("text")
    assert app.side.alt_buttons[0].cget("text").startswith("7")
    app.side.alt_buttons[0].invoke()  # the top alternative relabels
    assert ed.current.label == "7" and ed.current.outcome == "relabelled"
    c.event_generate("<Tab>")
    assert ed.current.prediction.label == "7" and ed.current.confidence == 0.95
    c.event_generate("<KeyPress-Right>", keysym="Right")
    assert ed.current.box.x0 == 101
    c.event_generate("<Delete>")
    assert ed.get(ed.review_queue()[0]).label == "7"
    c.event_generate("<question>")
    assert app.help.visible and app.view.canvas.find_withtag("help")
    c.event_generate("<Escape>")
    assert not app.help.visible
    assert app.commands.enabled("save") and app.root.title().endswith("•")


def _open_noise_page(make_app, path: Path, shape: tuple[int, int], low: int, seed: int):
    """The app with a page of random pixels (``low``..254, ``shape`` rows x columns) opened."""
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(low, 255, (*shape, 3), dtype=np.uint8)).save(path)
    app = make_app(page=str(path))
    pump(app, lambda: app.editor.source == "loaded")
    return app


def test_big_photo_renders_only_the_visible_region_at_screen_scale(make_app, tmp_path):
    app = _open_noise_page(make_app, tmp_path / "photo.jpg", (3000, 4500), 0, 0)
    view = app.view
    vw, vh = view._viewport()
    assert len(view._pyramid) >= 3  # 4500 -> 2250 -> 1125
    t0 = time.perf_counter()
    for _ in range(5):
        view.zoom_at(1.25, vw / 2, vh / 2)
    elapsed = (time.perf_counter() - t0) / 5
    shown = view._photo
    assert shown.width() <= vw + 2 and shown.height() <= vh + 2
    ox, before = view.ox, view._rendered
    drag(view.canvas, [(400, 300), (350, 280), (300, 250)], button=3)  # right-drag pans
    assert view.ox == pytest.approx(ox + 100 / view.scale)
    pump(app, lambda: view._settle is None)  # once the pan rests, the new region is rendered
    assert view._rendered != before
    view.fit()
    assert view._photo.width() <= vw and view._photo.height() <= vh
    print(f"zoom step on a 4500x3000 photo: {elapsed * 1000:.1f} ms")


def test_the_halved_copies_follow_every_stroke_undo_and_clear(make_app, tmp_path):
    # a stroke re-halves only its own region: the copies must match ones made afresh
    app = _open_noise_page(make_app, tmp_path / "photo.png", (3001, 4003), 200, 3)
    view, ed = app.view, app.editor
    view.fit()

    def assert_fresh() -> None:
        view.render()
        fresh = [ed.drawing.image]
        while max(fresh[-1].size) > 1500:
            fresh.append(fresh[-1].reduce(2))
        assert len(view._pyramid) == len(fresh) >= 2
        for got, want in zip(view._pyramid, fresh, strict=True):
            assert np.array_equal(np.asarray(got), np.asarray(want))

    for stroke in ([(300, 300), (320, 400)], [(500, 200), (700, 210)]):
        drag(view.canvas, stroke)
        assert_fresh()
    app.commands.run("undo")
    assert_fresh()
    app.commands.run("clear")
    assert_fresh()
    app.commands.run("undo")
    assert_fresh()


def test_errors_are_one_line_dialogs_and_the_app_stays_up(make_app, dialogs, tmp_path):
    seen, _ = dialogs
    bad = tmp_path / "notes.tiff"
    bad.write_bytes(b"\x00" * 100)
    app = make_app(page=str(bad))
    pump(app, lambda: seen)
    assert seen[0] == ("showerror", "notes.tiff: not an image digitpad can read")
    assert "\n" not in seen[0][1] and not app.closed
    app.commands.run("save")  # nothing recognised: Save is disabled, no dialog
    assert len(seen) == 1


def test_missing_model_is_a_dialog_when_recognising(make_app, dialogs, monkeypatch, tmp_path):
    import digitpad.registry

    monkeypatch.setattr(digitpad.registry, "shipped_model_path", lambda: tmp_path / "gone.onnx")
    seen, _ = dialogs
    app = make_app()
    assert app.recogniser is None and app.model_error is not None
    drag(app.view.canvas, [(200, 200), (200, 300)])
    app.commands.run("recognise")
    pump(app, lambda: seen)
    kind, line = seen[0]
    assert kind == "showerror" and line.startswith("no usable model") and "\n" not in line
    assert app.editor.drawing.has_ink()  # nothing lost


def test_busy_store_is_a_dialog_and_the_review_stays_unsaved(make_app, dialogs, monkeypatch, home):
    import sqlite3

    import digitpad.store.db as db
    from digitpad.store import CorrectionStore

    monkeypatch.setattr(db, "MAX_WAIT_S", 0.3)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)
    CorrectionStore.open(home).close()  # create the schema
    seen, _ = dialogs
    app = make_app()
    app.editor.set_result(fake_result())
    locker = sqlite3.connect(home.store_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        app.commands.run("save")
        pump(app, lambda: seen)
        assert seen[0][0] == "showerror" and "busy" in seen[0][1]
        assert app.editor.dirty
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    with CorrectionStore.open(home) as store:
        assert store.stats().reviews == 1


def test_save_edit_save_again_replaces_the_first_save(make_app, home):
    from digitpad.store import CorrectionStore

    app = make_app()
    app.editor.set_result(fake_result())
    app.editor.relabel("4")
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    assert "Saved review #1:" in app.status.message.cget("text")
    app.commands.run("label_7")  # edit after saving: Save is offered again
    assert app.editor.dirty and app.commands.enabled("save")
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    message = app.status.message.cget("text")
    assert message.startswith("Saved review #1 again:") and "replaces the earlier save" in message
    with CorrectionStore.open(home) as store:
        stats = store.stats()
        assert store.review_ids() == [1]
    assert (stats.reviews, stats.overall.correct, stats.overall.total) == (1, 1, 2)
    app.set_tool("pen")
    drag(app.view.canvas, [(200, 200), (200, 300)])  # more ink: the page's pixels change
    app.commands.run("save")
    pump(app, lambda: not app.editor.dirty)
    assert app.status.message.cget("text").startswith("Saved review #1 again:")
    with CorrectionStore.open(home) as store:
        stats = store.stats()
        (truth,) = store.page_truths()
        assert (store.page_image(truth.page_hash) == app.editor.drawing.array()).all()
    assert (stats.reviews, stats.pages, stats.overall.total) == (1, 1, 2)


def test_unsaved_work_is_protected(make_app, dialogs):
    seen, answers = dialogs
    app = make_app()
    drag(app.view.canvas, [(200, 200), (200, 300)])
    app.commands.run("new")  # askokcancel -> False: keep the drawing
    assert seen[-1][0] == "askokcancel" and app.editor.drawing.has_ink()
    app.editor.set_result(fake_result())
    app.commands.run("new")  # askyesnocancel -> None (Cancel)
    assert seen[-1][0] == "askyesnocancel" and app.editor.recognised
    answers["askyesnocancel"] = True  # Yes: save first, then the new page
    app.commands.run("new")
    pump(app, lambda: not app.editor.recognised)
    assert "Saved review #1" in app.status.message.cget("text")
    assert not app.editor.drawing.has_ink()
    answers["askokcancel"] = True
    drag(app.view.canvas, [(200, 200), (200, 300)])
    app.commands.run("quit")
    assert app.closed


def _fake_retrain(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake_retrain.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_retrain_runs_in_background_and_can_be_cancelled(make_app, monkeypatch, tmp_path):
    import digitpad.ui.retrain_control as app_module

    argv = _fake_retrain(
        tmp_path,
        """
        import json, signal, sys, time
        def stop(signum, frame):
            print(json.dumps({"phase": "failed", "reason": "cancelled", "promoted": False,
                              "version": None, "message": "cancelled"}), flush=True)
            sys.exit(130)
        signal.signal(signal.SIGTERM, stop)
        for i in range(1000):
            print(json.dumps({"phase": "train", "epoch": 1, "step": i, "total": 1000,
                              "loss": 1.0, "eta_s": 1000 - i}), flush=True)
            time.sleep(0.02)
        """,
    )
    monkeypatch.setattr(app_module, "retrain_argv", lambda root: argv)
    app = make_app()
    app.commands.run("retrain")
    assert not app.commands.enabled("retrain") and app.commands.enabled("cancel_retrain")
    pump(app, lambda: "ETA" in app.status.progress_text.cget("text"))
    assert app.status.progress_frame.winfo_ismapped()
    # The window keeps working meanwhile: draw, undo, redo.
    drag(app.view.canvas, [(300, 300), (300, 400)])
    app.commands.run("undo")
    app.commands.run("redo")
    assert app.editor.drawing.has_ink()
    app.status.cancel.invoke()
    pump(app, lambda: not app.retrainer.running)
    assert not app.status.progress_frame.winfo_ismapped()
    assert app.status.message.cget("text").startswith("Retrain cancelled")


def test_quitting_during_a_retrain_cancels_it_and_ends_cleanly(make_app, monkeypatch, tmp_path):
    import digitpad.ui.retrain_control as app_module

    stopped, ready = tmp_path / "stopped", tmp_path / "ready"
    argv = _fake_retrain(
        tmp_path,
        f"""
        import json, signal, sys, time
        def stop(signum, frame):
            open({str(stopped)!r}, "w").write("yes")
            sys.exit(130)
        signal.signal(signal.SIGTERM, stop)
        open({str(ready)!r}, "w").write("yes")
        time.sleep(60)
        """,
    )
    monkeypatch.setattr(app_module, "retrain_argv", lambda root: argv)
    app = make_app()
    app.commands.run("retrain")
    pump(app, ready.exists)  # its SIGTERM handler is in place
    app._close()  # the person quit and said yes to cancelling the retrain
    app.run()  # after its main loop the app cancels a retrain still running: no widget left
    deadline = time.monotonic() + 10
    while not stopped.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stopped.read_text() == "yes"


def test_retrain_promotion_swaps_the_model_without_restart(make_app, monkeypatch, tmp_path):
    import digitpad.ui.retrain_control as app_module

    argv = _fake_retrain(
        tmp_path,
        """
        import json
        print(json.dumps({"phase": "train", "step": 1, "total": 1}), flush=True)
        print(json.dumps({"phase": "done", "reason": "promoted", "version": "v1",
                          "promoted": True, "message": "v1 promoted: held-out 98.0%"}))
        """,
    )
    monkeypatch.setattr(app_module, "retrain_argv", lambda root: argv)
    app = make_app()
    if not _has_model(app):
        pytest.skip("no model yet")
    old = app.recogniser
    app.commands.run("retrain")
    pump(app, lambda: "is now in use" in app.status.message.cget("text"))
    assert app.recogniser is old  # same recogniser, its classifier swapped in place
    assert "held-out 98.0%" in app.status.message.cget("text")


def test_retrain_failure_is_one_line(make_app, monkeypatch, tmp_path, dialogs):
    import digitpad.ui.retrain_control as app_module

    seen, _ = dialogs
    argv = _fake_retrain(
        tmp_path,
        """
        import json, sys
        print(json.dumps({"phase": "failed", "reason": "error", "version": None,
                          "promoted": False, "message": "the corrections store is damaged"}))
        sys.exit(1)
        """,
    )
    monkeypatch.setattr(app_module, "retrain_argv", lambda root: argv)
    app = make_app()
    app.commands.run("retrain")
    pump(app, lambda: seen)
    assert seen[0] == ("showerror", "the corrections store is damaged")
    assert app.commands.enabled("retrain")


def test_retrain_with_nothing_to_learn_is_a_status_line_not_a_dialog(
    make_app, monkeypatch, tmp_path, dialogs
):
    import digitpad.ui.retrain_control as app_module
    from digitpad.ui.jobs import NOTHING_TO_LEARN

    seen, _ = dialogs
    argv = _fake_retrain(
        tmp_path,
        """
        import json
        print(json.dumps({"phase": "failed", "reason": "no_corrections", "version": None,
                          "promoted": False, "message": "no corrections yet: save a review"}))
        """,
    )
    monkeypatch.setattr(app_module, "retrain_argv", lambda root: argv)
    app = make_app()
    app.commands.run("retrain")
    pump(app, lambda: not app.retrainer.running)
    assert app.status.message.cget("text") == NOTHING_TO_LEARN
    assert seen == [] and app.commands.enabled("retrain")
    assert not app.status.progress_frame.winfo_ismapped()


def test_stats_window_draws_chart_heatmap_and_bars(make_app, home):
    from digitpad.store import CorrectionStore

    app = make_app()
    for relabel in ("1", "4"):
        app.editor.set_result(fake_result())
        app.editor.relabel(relabel)
        app.commands.run("save")
        pump(app, lambda: not app.editor.dirty)
    app.commands.run("stats")
    win = app.accuracy.window
    pump(app, lambda: win.timeline and win.stats is not None and win.stats.reviews == 2)
    texts = [
        win.canvas.itemcget(i, "text")
        for i in win.canvas.find_all()
        if win.canvas.type(i) == "text"
    ]
    assert ("v1" in texts and "missed" in " ".join(texts)) or "miss" in texts
    with CorrectionStore.open(home) as store:
        stats = store.stats()
    assert stats.reviews == 2
    assert str(stats.confusion["1"]["4"]) in texts  # the heatmap shows the counts
    assert "Model" in app.status.counter.cget("text")
    assert "digits reviewed" in app.status.counter.cget("text")


@pytest.mark.parametrize("suffix", ["png", "jpg", "bmp", "tiff", "webp"])
def test_opens_every_page_format(make_app, tmp_path, suffix):
    page = np.full((300, 400, 3), 255, np.uint8)
    page[100:200, 190:200] = 0
    path = tmp_path / f"page.{suffix}"
    Image.fromarray(page).save(path)
    app = make_app(page=str(path))
    pump(app, lambda: app.editor.source == "loaded")
    assert app.editor.size == (400, 300) and app.page_name == f"page.{suffix}"
    assert app.editor.drawing.has_ink() and not app.editor.dirty
    assert app.commands.enabled("recognise")


@pytest.mark.filterwarnings("ignore:model v2 cannot be used")
def test_broken_active_model_falls_back_with_a_visible_warning(make_app, home):
    import shutil

    from digitpad.home import shipped_model_path
    from digitpad.registry import ModelRegistry

    if not shipped_model_path().exists():
        pytest.skip("no shipped model yet")
    registry = ModelRegistry.for_home(home)
    staged = home.models_dir / "staged.onnx"
    shutil.copy(shipped_model_path(), staged)
    registry.add_candidate(2, staged, None, parent=1)
    registry.promote(2)
    registry.model_path(2).write_bytes(b"truncated")  # the active model's file is damaged
    app = make_app()
    assert app.recogniser is not None and app.model_version == "v1"
    message = app.status.message.cget("text")
    assert "v2" in message and "using v1 instead" in message


def test_a_store_that_cannot_be_read_is_not_shown_as_no_reviews(make_app, home):
    home.corrections_dir.mkdir(parents=True, exist_ok=True)
    home.store_path.write_bytes(b"not a database" * 100)  # someone else's file, or damage
    app = make_app()
    counter = app.status.counter
    pump(app, lambda: "store unavailable" in counter.cget("text"))
    assert "no digits reviewed" not in counter.cget("text")
    assert app.status.message.cget("text").startswith("Stats unavailable:")
    assert home.store_path.read_bytes() == b"not a database" * 100  # left as it was
