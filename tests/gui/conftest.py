"""Fixtures for the window driven in this process under Xvfb (tests/gui/test_app_*.py)."""

from __future__ import annotations

import gc

import pytest
from tkdriver import pump
from xsession import XServer


@pytest.fixture(scope="session")
def display():
    # One X server for the whole run: Tk keeps its connection to a display open until the
    # process ends, so a second module's server would leave the first connection dying
    # (Xlib's I/O error handler exits the process).
    x = XServer()
    yield x.display
    x.close()


@pytest.fixture
def dialogs(monkeypatch):
    """Every dialog the app opens, answered by the test instead of a person."""
    from tkinter import messagebox

    seen: list[tuple[str, str]] = []
    answers: dict[str, object] = {"askyesnocancel": None, "askokcancel": False}

    def fake(kind):
        def show(title, message, **kw):
            seen.append((kind, message))
            return answers.get(kind)

        return show

    for kind in ("showerror", "askyesnocancel", "askokcancel"):
        monkeypatch.setattr(messagebox, kind, fake(kind))
    return seen, answers


@pytest.fixture
def make_app(display, monkeypatch, home, dialogs):
    monkeypatch.setenv("DISPLAY", display)
    from digitpad.ui.app import App

    apps = []

    def make(**kw):
        app = App(home, **kw)
        apps.append(app)
        # Mapped, and the model loaded (or failed to) in the background.
        pump(app, lambda: app.recogniser is not None or app.model_error is not None)
        return app

    yield make
    for app in apps:
        if not app.closed:
            app.closed = True
            app.root.destroy()
    apps.clear()
    # Collect the dead window's Tk objects here, on the Tk thread: if a worker thread of the
    # next test ran the collector, Tcl would abort ("deleted by the wrong thread").
    gc.collect()
