"""The UI process never imports torch; the editing model and job runner never import tkinter."""

from __future__ import annotations

import pytest

PURE = [
    "digitpad.ui.editor",
    "digitpad.ui.history",
    "digitpad.ui.drawing",
    "digitpad.ui.commands",
    "digitpad.ui.jobs",
    "digitpad.ui.retrain_control",
    "digitpad.ui.services",
    "digitpad.ui.style",
    "digitpad.ui.trace",
]


def test_pure_ui_modules_do_not_import_tkinter(run_python):
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tkinter', '_tkinter')))"
    )
    assert run_python(code) == "[]"


def test_the_app_process_never_imports_torch(home, run_python):
    """Everything the window imports, plus a real model load and recognition, without torch."""
    pytest.importorskip("tkinter", reason="this Python has no tkinter (install python3-tk)")
    code = f"""
import sys
import numpy as np
import digitpad.cli, digitpad.commands.app
import digitpad.ui.app, digitpad.ui.stats_window, digitpad.ui.canvas_view
from digitpad.home import resolve_home
from digitpad.errors import ModelError
from digitpad.ui import services
home = resolve_home({str(home.root)!r})
try:
    rec, warning = services.load_recogniser(home)
    page = np.full((200, 300, 3), 255, np.uint8)
    page[40:160, 140:150] = 0
    rec.recognise(page)
    services.read_stats(home)
    print("model", rec.classifier.version, "torch" in sys.modules)
except ModelError:
    print("nomodel", "torch" in sys.modules)
"""
    words = run_python(code).split()
    assert words[-1] == "False", words
