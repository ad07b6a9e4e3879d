"""The window's commands, each with its tester, and the toolbar and menus built from them.

Apart from the window class so that it reads at a glance; the handlers stay the window's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from digitpad.ui import chrome
from digitpad.ui.commands import Command

if TYPE_CHECKING:
    from digitpad.ui.app import App

TOOLBAR = ("new", "open", "recognise", "save", "undo", "redo", "retrain", "stats")
MENUS = {
    "File": ("new", "open", "save", None, "quit"),
    "Edit": ("undo", "redo", None, "delete", "accept", "new_box", None, "clear"),
    "View": ("fit", "zoom_in", "zoom_out", None, "help"),
    "Model": ("recognise", "retrain", "cancel_retrain", None, "stats"),
}
NUDGES = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def add_commands(app: App) -> None:
    """Register every command of the window, then build its toolbar and menus from them."""
    _page_commands(app)
    _review_commands(app)
    _view_commands(app)
    app.buttons = chrome.build_toolbar(app.toolbar, app.commands, TOOLBAR)
    app.menus = chrome.build_menus(app.root, app.commands, MENUS)


def _page_commands(app: App) -> None:
    """The toolbar's commands: pages, recognise, save, history, retrain, stats, quit."""
    add, ed = app.commands.add, lambda: app.editor
    running = lambda: app.retrainer.running  # noqa: E731
    add(Command("new", "New", app.pages.new_page, accelerator="Ctrl+N"))
    # One page at a time: a second Open while one loads would be dropped.
    not_loading = lambda: not app.jobs.busy("load")  # noqa: E731
    add(Command("open", "Open page…", app.pages.open_page, not_loading, "Ctrl+O"))
    add(Command("recognise", "Recognise", app.recognise, app.can_recognise, "Ctrl+R"))
    add(Command("save", "Save", app.pages.save, app.pages.can_save, "Ctrl+S"))
    # Not in the middle of a stroke: its undo step does not exist until the button is up.
    idle = lambda: not ed().drawing.drawing  # noqa: E731
    add(Command("undo", "Undo", app.undo, lambda: ed().history.can_undo and idle(), "Ctrl+Z"))
    add(Command("redo", "Redo", app.redo, lambda: ed().history.can_redo and idle(), "Ctrl+Y"))
    add(Command("retrain", "Retrain", app.retrainer.start, lambda: not running(), "Ctrl+T"))
    add(Command("cancel_retrain", "Cancel retrain", app.retrainer.cancel, running))
    add(Command("stats", "Stats", app.accuracy.open_window, accelerator="Ctrl+I"))
    add(Command("quit", "Quit", app.quit, accelerator="Ctrl+Q"))


def _review_commands(app: App) -> None:
    """Correcting boxes: labels, not-a-digit, accept, the review queue, new box, nudges."""
    add, ed = app.commands.add, lambda: app.editor
    has_box = lambda: ed().current is not None  # noqa: E731
    has_queue = lambda: bool(ed().visible())  # noqa: E731
    for d in "0123456789":
        add(Command(f"label_{d}", d, lambda d=d: app.editor.relabel(d), has_box))
    add(Command("delete", "Not a digit", _editor_call(app, "delete_selected"), has_box, "Del"))
    # a new box waits for its digit: Enter must not mark it checked and leave it
    can_accept = lambda: has_queue() and not (has_box() and ed().current.label is None)  # noqa: E731
    add(Command("accept", "Accept and next", _editor_call(app, "accept_and_next"), can_accept))
    add(Command("next", "Next box", lambda: app.editor.select_next(1), has_queue, "Tab"))
    add(Command("prev", "Previous box", lambda: app.editor.select_next(-1), has_queue))
    add(Command("new_box", "New box", app.new_box, accelerator="N"))
    for name, (dx, dy) in NUDGES.items():
        add(Command(f"nudge_{name}", f"Nudge {name}", _nudger(app, dx, dy), has_box))
        big = _nudger(app, 10 * dx, 10 * dy)
        add(Command(f"nudge_{name}_10", f"Nudge {name} 10", big, has_box))


def _view_commands(app: App) -> None:
    """Tools, pen width, zoom, clear, the shortcut overlay and Esc."""
    add = app.commands.add
    for tool in ("pen", "eraser", "box"):
        add(Command(f"tool_{tool}", tool.title(), lambda t=tool: app.set_tool(t)))
    add(Command("pen_thinner", "Thinner pen", lambda: app.set_pen_width(app.pen_width - 2)))
    add(Command("pen_thicker", "Thicker pen", lambda: app.set_pen_width(app.pen_width + 2)))
    add(Command("fit", "Fit page", app.view.fit, accelerator="F"))
    add(Command("zoom_in", "Zoom in", lambda: app.view.zoom_centre(1.25), accelerator="+"))
    add(Command("zoom_out", "Zoom out", lambda: app.view.zoom_centre(0.8), accelerator="−"))
    add(Command("clear", "Clear page", app.clear, app.can_clear, "Ctrl+L"))
    add(Command("help", "Keyboard shortcuts", app.help.toggle, accelerator="?"))
    add(Command("escape", "Close / deselect", app.escape, accelerator="Esc"))


def _editor_call(app: App, method: str) -> Callable[[], object]:
    return lambda: getattr(app.editor, method)()


def _nudger(app: App, dx: int, dy: int) -> Callable[[], object]:
    def nudge() -> object:
        # a page pixel is a fifth of a screen pixel on a photo seen whole: a press moves
        # the box at least one screen pixel, so that it is seen to move
        step = max(1, round(1 / app.view.scale))
        return app.editor.nudge(dx * step, dy * step)

    return nudge
