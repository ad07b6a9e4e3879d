"""The digitpad window: toolbar, page canvas, side panel, status bar; commands, keys and events.

Threading rule: only this module's Tk thread touches widgets. Loading the model, opening a
page, recognising, saving and reading stats run on :class:`~digitpad.ui.jobs.Jobs` threads;
retraining runs in a child process. All of them report through one queue, drained a few
events per ``after()`` pass.
"""

from __future__ import annotations

import sys
import time
import tkinter as tk
import traceback
import unicodedata
from tkinter import messagebox, ttk
from typing import Any

from PIL import Image

from digitpad.errors import DigitpadError, ModelError
from digitpad.home import Home
from digitpad.types import Box
from digitpad.ui import chrome, services
from digitpad.ui.app_commands import add_commands
from digitpad.ui.canvas_view import CanvasView
from digitpad.ui.commands import CommandSet
from digitpad.ui.editor import Editor
from digitpad.ui.help_overlay import HelpOverlay
from digitpad.ui.jobs import Jobs
from digitpad.ui.page_control import PageControl
from digitpad.ui.retrain_control import RetrainControl
from digitpad.ui.side_panel import SidePanel
from digitpad.ui.stats_window import AccuracyControl
from digitpad.ui.status_bar import StatusBar
from digitpad.ui.trace import trace

POLL_IDLE_MS, POLL_BUSY_MS = 40, 4  # poll fast while a job runs: boxes must appear quickly
EVENTS_PER_PASS = 8
# Commands that open a dialog or a window, which takes the pointer (and a button's release)
OPENS_A_DIALOG = frozenset({"open", "new", "quit", "stats"})


class App:
    """One window editing one page at a time."""

    def __init__(self, home: Home, *, page: str | None = None) -> None:
        self.home = home
        self.root = tk.Tk(className="digitpad")
        self.root.title("digitpad")
        self.root.geometry("1200x760")
        self.root.minsize(820, 560)
        self._init_state()
        self.commands = CommandSet(on_error=self.show_error)
        self.commands.before_run = self._end_lost_stroke
        self.commands.after_run = self._after_command
        self._build()
        add_commands(self)
        chrome.bind_keys(self.root, self.handle_key)
        self.root.protocol("WM_DELETE_WINDOW", lambda: self.commands.run("quit"))
        self.root.report_callback_exception = self._report_exception
        self.root.bind("<Map>", self._mapped, add="+")
        self.view.set_editor(self.editor)
        self.refresh()
        # no shorter than the side panel needs (below it, Not a digit and Accept were cut
        # off), unless the screen itself is shorter (large fonts on a laptop)
        self.root.update_idletasks()
        fits = self.root.winfo_screenheight() - 80  # a title bar and a task bar
        self.root.minsize(820, max(560, min(self.root.winfo_reqheight(), fits)))
        self.root.after(POLL_IDLE_MS, self._poll)
        if page is not None:
            self.pages.load(page)

    def _init_state(self) -> None:
        self.jobs = Jobs()
        self.editor = Editor()
        # Bumps with every new page, so late results for an old page are dropped.
        self.page_serial = 0
        self.page_name = "new drawing"
        self.pen_width = 8
        self._key_with_pen_down = False  # while a key pressed mid-stroke runs its command
        self.recogniser: Any = None
        self.model_error: DigitpadError | None = None
        self.reading = ""
        self.retrainer = RetrainControl(self)
        self.accuracy = AccuracyControl(self)
        self.pages = PageControl(self)
        # Worker event kinds handled outside this class, by what comes before the dot.
        self._owners: dict[str, object] = {
            "retrain": self.retrainer,
            "reload": self.retrainer,
            "stats": self.accuracy,
            "timeline": self.accuracy,
            "load": self.pages,
            "save": self.pages,
        }
        self._pending_recognise: float | None = None
        self._ink_cache: tuple[object, int, bool] = (None, -1, False)
        self._states: dict[str, bool] = {}
        self.closed = False

    # ----- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        style = ttk.Style(self.root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        self.toolbar = ttk.Frame(self.root, padding=(6, 4))
        self.toolbar.pack(side="top", fill="x")
        self.status = StatusBar(self.root, on_cancel=lambda: self.commands.run("cancel_retrain"))
        self.status.frame.pack(side="bottom", fill="x")
        ttk.Separator(self.root).pack(side="bottom", fill="x")
        body = ttk.Frame(self.root)
        body.pack(side="top", fill="both", expand=True)
        self.side = SidePanel(
            body,
            run=self.commands.run,
            on_width=self.set_pen_width,
            on_tool=lambda t: self.commands.run(f"tool_{t}"),
        )
        self.side.frame.pack(side="right", fill="y")
        self.view = CanvasView(body, on_change=self.refresh)
        self.view.canvas.pack(side="left", fill="both", expand=True)
        self.help = HelpOverlay(self.view.canvas)

    def handle_key(self, name: str, pen_down: bool = False) -> str:
        """Run the command a shortcut names (from any of the app's windows); ``pen_down``:
        the left button was held as the key was pressed."""
        self._key_with_pen_down = pen_down
        try:
            self.commands.run(name)
        finally:
            self._key_with_pen_down = False
        return "break"  # keys never fall through to Tk's defaults (Tab would move the focus)

    # ----- state shown on screen -------------------------------------------------------------

    def _end_lost_stroke(self, name: str) -> None:
        """End a stroke still open before ``name`` runs, unless the pen is really down (a key
        pressed mid-stroke: `]` widens the pen, the stroke goes on) and ``name`` opens no
        dialog. A stroke open otherwise lost its button's release (to a dialog, a grab); a
        dialog opened now would take it (Ctrl+O's)."""
        if not self._key_with_pen_down or name in OPENS_A_DIALOG:
            self.view.finish_stroke()

    def _after_command(self, name: str) -> None:
        """Show what a command did; a box it selected or moved is brought into view."""
        box = self.editor.current
        if box is not None and (name in ("next", "prev", "accept") or name.startswith("nudge")):
            self.view.bring_into_view(box.box)
        self.refresh()

    def refresh(self) -> None:
        """Mirror the editor on the canvas, side panel, toolbar, menus and title."""
        if self.closed:
            return
        self.view.render()
        self.side.show(self.editor, self.reading)
        self._update_states()
        mark = " •" if self.editor.dirty else ""
        # a newline or another control character in a file name: no line break in the title
        name = "".join("?" if unicodedata.category(c) == "Cc" else c for c in self.page_name)
        self.root.title(f"digitpad — {name}{mark}")

    def _update_states(self) -> None:
        self._states = chrome.mirror_states(
            self.commands.states(), self._states, self.buttons, self.menus
        )

    def show_error(self, exc: BaseException) -> None:
        """One clear line in a dialog (never a traceback); the app carries on."""
        if isinstance(exc, DigitpadError):
            line = str(exc)
        else:
            line = " ".join(f"unexpected error ({type(exc).__name__}): {exc}".split())
        self.status.say(line)
        trace("error", message=line)
        self.view.finish_stroke()  # the dialog takes the pointer: the button's release too
        messagebox.showerror("digitpad", line, parent=self.root)

    def _report_exception(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        if not isinstance(exc, DigitpadError) or self.closed:
            traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        if not self.closed:
            self.show_error(exc)

    def _mapped(self, event: tk.Event) -> None:
        if event.widget is not self.root or getattr(self, "_was_mapped", False):
            return
        self._was_mapped = True
        trace("mapped")
        self.root.after_idle(self._after_mapped)

    def _after_mapped(self) -> None:
        c = self.view.canvas
        if c.winfo_width() <= 1:  # not laid out yet: geometry comes a moment after mapping
            self.root.after(10, self._after_mapped)
            return
        r = self.root
        trace(
            "ready",
            canvas=[c.winfo_rootx(), c.winfo_rooty(), c.winfo_width(), c.winfo_height()],
            window=[r.winfo_rootx(), r.winfo_rooty(), r.winfo_width(), r.winfo_height()],
        )
        c.focus_set()
        self.start_model_load()
        self.accuracy.refresh()

    # ----- the event loop for workers ----------------------------------------------------------

    def _poll(self) -> None:
        if self.closed:
            return
        try:
            for kind, payload in self.jobs.drain(EVENTS_PER_PASS):
                # "save.done" -> self.on_save_done, "stats.done" -> self.accuracy.on_stats_done
                owner = self._owners.get(kind.split(".")[0], self)
                handler = getattr(owner, "on_" + kind.replace(".", "_"), None)
                if handler is not None:
                    handler(payload)
            self._update_states()
        except Exception as exc:  # one bad event must not stop the loop
            self._report_exception(type(exc), exc, exc.__traceback__)
        finally:
            busy = self.jobs.any_busy or self._pending_recognise is not None
            self.root.after(POLL_BUSY_MS if busy else POLL_IDLE_MS, self._poll)

    # ----- model -------------------------------------------------------------------------------

    def start_model_load(self) -> None:
        """Load the home's active model on a worker; ``model.*`` events report back."""
        self.jobs.start("model", services.load_recogniser, self.home)

    def on_model_done(self, payload: tuple[Any, Any]) -> None:
        self.recogniser, warning = payload[1]
        self.model_error = None
        if warning:
            self.status.say(warning)  # e.g. "model v3 cannot be used (...); using v2 instead"
        trace("model", version=self.recogniser.classifier.version, warning=warning)
        self.accuracy.show_counter()
        if self._pending_recognise is not None:
            self._recognise_now(self._pending_recognise)

    def on_model_failed(self, payload: tuple[Any, BaseException]) -> None:
        exc = payload[1]
        self.model_error = exc if isinstance(exc, DigitpadError) else ModelError(str(exc))
        was_pending, self._pending_recognise = self._pending_recognise, None
        self.status.set_counter("no model")
        if was_pending is not None:
            self.show_error(self.model_error)
        else:
            self.status.say(f"{self.model_error} (drawing still works)")

    @property
    def model_version(self) -> str | None:
        """The loaded model's version ("v3"), or None before a model is loaded."""
        return None if self.recogniser is None else self.recogniser.classifier.version

    # ----- recognise ---------------------------------------------------------------------------

    def _has_ink(self) -> bool:
        d = self.editor.drawing
        drawing, rev, _ = self._ink_cache
        if drawing is not d or rev != d.revision:  # another page, or its pixels changed
            self._ink_cache = (d, d.revision, d.has_ink())
        return self._ink_cache[2]

    def can_clear(self) -> bool:
        """Something to clear (ink, boxes or a recognition), and no stroke half drawn."""
        ed = self.editor
        return not ed.drawing.drawing and (ed.recognised or bool(ed.boxes) or self._has_ink())

    def can_recognise(self) -> bool:
        """No reading under way or waiting, ink on the page, and no stroke half drawn."""
        return (
            not self.jobs.busy("recognise")
            and self._pending_recognise is None
            and not self.editor.drawing.drawing
            and self._has_ink()
        )

    def recognise(self) -> None:
        """Recognise the page off the Tk thread (once the model is loaded, if it is not yet)."""
        t0 = time.perf_counter()
        if self.recogniser is None:
            self._pending_recognise = t0
            self.status.say("Loading the model…")
            if not self.jobs.busy("model"):
                self.start_model_load()
            return
        self._recognise_now(t0)

    def _recognise_now(self, t0: float) -> None:
        self._pending_recognise = None
        # The pixels as they are now, frozen without a copy (strokes may go on meanwhile): even
        # one memory copy of a 12 MP photo took 32 ms here; the worker makes the array.
        drawing = self.editor.drawing
        page = drawing.snapshot()
        tag = (self.page_serial, drawing.rewrites, t0)
        self.jobs.start("recognise", services.recognise_page, self.recogniser, page, tag=tag)
        self.status.say("Recognising…")

    def on_recognise_done(self, payload: tuple[tuple[int, int, float], Any]) -> None:
        (serial, rewrites, t0), result = payload
        if serial != self.page_serial:
            return  # the page was replaced while recognising
        if rewrites != self.editor.drawing.rewrites:
            # ink cleared, erased or undone meanwhile: its boxes could sit on empty paper and
            # be saved as reviewed digits (strokes only added are safe: they are just unread)
            self.status.say("The page changed while recognising: press Ctrl+R to read it again")
            return
        self.editor.set_result(result)
        self.reading = result.text
        self.set_tool("box")
        self.refresh()
        self.root.update_idletasks()  # the boxes are on screen now
        ms = (time.perf_counter() - t0) * 1000
        n = len(result.digits)
        self.status.say(
            f"Recognised {n} digit{'s' * (n != 1)} in {ms:.0f} ms with "
            f"{result.model_version} · Tab reviews least confident first, "
            "0-9 fixes, Ctrl+S saves"
        )
        trace(
            "recognised",
            n=n,
            ms_to_boxes=ms,
            engine_ms=result.elapsed_ms,
            labels=[d.label for d in result.digits],
            queue=[self.editor.get(i).label for i in self.editor.review_queue()],
            text=result.text,
            torch_loaded="torch" in sys.modules,
        )

    def on_recognise_failed(self, payload: tuple[Any, BaseException]) -> None:
        self.show_error(payload[1])

    # ----- pages -------------------------------------------------------------------------------

    def show_page(
        self, editor: Editor, name: str, pyramid: list[Image.Image] | None = None
    ) -> None:
        """Make ``editor`` the page on screen (``pyramid``: its halved copies, when made on the
        worker that read it); results still coming for the old page are dropped."""
        self.page_serial += 1
        self.editor = editor
        editor.drawing.set_pen_width(self.pen_width)
        self.page_name = name
        self.reading = ""
        self.view.set_editor(editor, pyramid)
        self.set_tool("pen" if editor.source == "drawn" else "box")
        self.refresh()

    def quit(self) -> None:
        """Close the window, after asking about a running retrain and unsaved work.

        The retrain is cancelled only as the window closes: a person who then cancels at the
        unsaved-work question keeps both the page and the retrain.
        """
        if self.retrainer.running and not messagebox.askokcancel(
            "Retrain running", "A retrain is running. Cancel it and quit?", parent=self.root
        ):
            return
        self.pages.confirm_discard("closing", self._close)

    def _close(self) -> None:
        if self.pages.saving():  # a save waits to start: it must commit before the window goes
            self.status.say("Closing once the save has committed…")
            # work done meanwhile is asked about again
            self.pages.when_saved(lambda: self.pages.confirm_discard("closing", self._close))
            return
        if self.retrainer.running:
            self.retrainer.cancel()
        self.closed = True  # callbacks still queued (after_run, after()) must not touch widgets
        self.root.destroy()

    # ----- editing commands --------------------------------------------------------------------

    def undo(self) -> None:
        """Undo one edit and say which in the status bar."""
        name = self.editor.undo()
        self.status.say(f"Undid {name}" if name else "Nothing to undo")

    def redo(self) -> None:
        """Redo one edit and say which in the status bar."""
        name = self.editor.redo()
        self.status.say(f"Redid {name}" if name else "Nothing to redo")

    def clear(self) -> None:
        """Wipe the ink and every box as one undoable step."""
        if self.editor.clear():
            self.reading = ""
            self.status.say("Cleared the page (Ctrl+Z brings it back)")

    def set_tool(self, tool: str) -> None:
        """Switch the canvas tool ("pen", "eraser" or "box") and mirror it in the side panel.

        Raises:
            ValueError: an unknown tool.
        """
        self.view.set_tool(tool)
        self.side.tool.set(tool)

    def set_pen_width(self, width: int) -> None:
        """Use a pen ``width`` pixels wide (clamped by the drawing), shown on the slider."""
        self.editor.drawing.set_pen_width(width)
        self.pen_width = self.editor.drawing.pen_width
        if self.side.width.get() != self.pen_width:
            self.side.width.set(self.pen_width)
            self.side.width_label.configure(text=f"{self.pen_width} px")

    def new_box(self) -> None:
        """A box at the pointer (or the view's centre), sized like the others; type its digit."""
        self.set_tool("box")
        px, py = self.view.pointer_page_point()
        sizes = sorted((b.box.width, b.box.height) for b in self.editor.visible())
        w, h = sizes[len(sizes) // 2] if sizes else (6 * self.pen_width, 9 * self.pen_width)
        box = Box(round(px - w / 2), round(py - h / 2), round(px + w / 2), round(py + h / 2))
        if self.editor.add_box(box) is not None:
            self.status.say("New box: type its digit (drag it or its handles to adjust)")
        else:  # clipped to (almost) nothing: say so rather than let N do nothing
            self.status.say("No box added: no room for one there (point at the page, press N)")

    def escape(self) -> None:
        """Esc: close the shortcut overlay if it is open, otherwise deselect."""
        if self.help.visible:
            self.help.hide()
        else:
            self.editor.select(None)

    def run(self) -> None:
        """Enter the Tk main loop until the window closes."""
        self.root.mainloop()
        if self.retrainer.running:
            self.retrainer.cancel()
        # A save still in flight finishes before the process ends (it is one transaction either
        # way, but the person asked for it).
        deadline = time.monotonic() + 60
        while self.jobs.busy("save") and time.monotonic() < deadline:
            time.sleep(0.05)
