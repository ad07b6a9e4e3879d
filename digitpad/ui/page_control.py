"""A page's life in the window: New, Open, Save, and asking before unsaved work is lost.

Loading and saving run on :class:`~digitpad.ui.jobs.Jobs` threads; their ``load.*`` and
``save.*`` events come back here through the app's event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog, messagebox
from typing import TYPE_CHECKING, Any

from PIL import Image

from digitpad.imageio import SUPPORTED_SUFFIXES
from digitpad.ui import services
from digitpad.ui.canvas_view import make_pyramid
from digitpad.ui.editor import Editor, EditorError
from digitpad.ui.review_draft import ReviewDraft
from digitpad.ui.trace import trace

if TYPE_CHECKING:
    from digitpad.store import SavedReview
    from digitpad.ui.app import App


# (page serial, history token, number of boxes, started_at) of a save, carried by its job.
SaveTag = tuple[int, int, int, float]
# A page read while a stroke is being drawn waits this long between looks for the stroke's end.
LOAD_RETRY_MS = 50


class PageControl:
    """Opens and saves the app's page; never drops unsaved work without asking."""

    def __init__(self, app: App) -> None:
        self.app = app
        # (page serial, what to do) once the running save has committed: a wish for one page
        self._after_save: tuple[int, Callable[[], None]] | None = None
        # what to do once no save is running or waiting (closing the window)
        self._when_idle: Callable[[], None] | None = None
        # A save asked for while another is in flight: (draft, tag, then), started when that
        # one has committed.
        self._queued: tuple[ReviewDraft, SaveTag, Callable[[], None] | None] | None = None
        # The save being written: once committed, its page becomes the drawing's base.
        self._writing: ReviewDraft | None = None
        # The review id each review session of this page was saved as, by (page serial,
        # started_at): saving a session again names the review to replace, even when the ink
        # changed (another page hash), and an undo may bring back an earlier session.
        self._saved_as: dict[tuple[int, float], int] = {}

    # ----- save --------------------------------------------------------------------------------

    def can_save(self) -> bool:
        """A recognised page with changes since its last save, and no save in flight."""
        editor = self.app.editor
        return editor.recognised and editor.dirty and not self.app.jobs.busy("save")

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Save the review off the Tk thread, then run ``then`` once it has committed.

        Only a snapshot of the page is taken here (strokes drawn while it saves stay out of
        it); the page's pixels are put together on the worker.

        Asked while another save is in flight (a prompt's "Yes" right after Ctrl+S), this one
        starts once that one has committed, so the edits made in between are saved too (as
        the same review) before ``then`` runs.

        Raises:
            EditorError: a new box has no digit yet (nothing is saved).
        """
        app = self.app
        draft = app.editor.review_draft()
        tag = (app.page_serial, app.editor.history.token, len(draft.boxes), draft.started_at)
        app.status.say("Saving…")
        if app.jobs.busy("save"):
            # the latest state is saved; a wish already waiting (a page switch) still follows
            waiting = self._queued[2] if self._queued is not None else None
            self._queued = (draft, tag, then or waiting)
            return
        self._start(draft, tag, then)

    def _start(self, draft: ReviewDraft, tag: SaveTag, then: Callable[[], None] | None) -> None:
        app = self.app
        replaces = self._replaces(tag[0], draft.started_at)
        self._after_save = (tag[0], then) if then is not None else None
        self._writing = draft
        app.jobs.start("save", services.save_review, app.home, draft, replaces, tag=tag)

    def _replaces(self, serial: int, started_at: float) -> int | None:
        """The review this page's review session was last saved as, if any."""
        return self._saved_as.get((serial, started_at))

    def on_save_done(self, payload: tuple[SaveTag, SavedReview]) -> None:
        (serial, token, n, started_at), saved = payload
        app = self.app
        self._saved_as = {k: v for k, v in self._saved_as.items() if k[0] == serial}
        self._saved_as[(serial, started_at)] = saved.review_id
        draft, self._writing = self._writing, None
        if serial == app.page_serial:
            app.editor.mark_saved(token)
            made = None if draft is None else draft.made
            if draft is not None and made is not None:
                # the saved pixels stand in for the strokes they hold, which memory lets go
                app.editor.drawing.rebase(draft.page, made.image)
        app.status.say(services.saved_text(saved, n))
        trace("saved", review=saved.review_id, replaced=saved.replaced, boxes=n)
        app.refresh()
        app.accuracy.refresh()
        wish, self._after_save = self._after_save, None
        queued, self._queued = self._queued, None
        if queued is not None:
            self._start(*queued)  # its ``then`` is the later wish, and runs once it commits
        elif wish is not None:
            self._follow(*wish)
        if self._when_idle is not None and not self.saving():
            when_idle, self._when_idle = self._when_idle, None
            when_idle()

    def _follow(self, serial: int, then: Callable[[], None]) -> None:
        """Run what was to follow the save of page ``serial`` ("Yes, save first"), if that page
        is still open: edited again while it saved, it is saved again first."""
        app = self.app
        if serial != app.page_serial:  # another page was opened meanwhile, asked about itself
            app.status.say("Saved. The page switch asked for with it was overtaken")
            return
        if not app.editor.dirty:
            then()
            return
        try:
            self.save(then=then)
        except EditorError as exc:  # a new box without its digit: the page stays open
            app.show_error(exc)

    def on_save_failed(self, payload: tuple[Any, BaseException]) -> None:
        # The page stays open and unsaved, whatever was to follow (closing the window
        # included): nothing is lost.
        self._after_save = self._queued = self._when_idle = self._writing = None
        self.app.show_error(payload[1])

    def saving(self) -> bool:
        """Whether a save is running or waiting to start."""
        return self.app.jobs.busy("save") or self._queued is not None

    def when_saved(self, then: Callable[[], None]) -> None:
        """Run ``then`` once no save is running or waiting (at once when none is); not at all
        when a save fails, whose page then stays open with its error."""
        if self.saving():
            self._when_idle = then
        else:
            then()

    # ----- new and open ------------------------------------------------------------------------

    def new_page(self) -> None:
        """A blank drawing, once unsaved work is saved or given up."""
        self.confirm_discard(
            "starting a new page", lambda: self.app.show_page(Editor(), "new drawing")
        )

    def open_page(self) -> None:
        """Ask for an image file and open it, once unsaved work is saved or given up."""

        def ask() -> None:
            kinds = " ".join(f"*{s} *{s.upper()}" for s in SUPPORTED_SUFFIXES)
            path = filedialog.askopenfilename(
                parent=self.app.root,
                title="Open a page",
                filetypes=[("Images", kinds), ("All files", "*")],
            )
            if path:
                self.load(path)

        self.confirm_discard("opening another page", ask)

    def load(self, path: str) -> None:
        """Read the page at ``path`` off the Tk thread; it replaces the current page when read.

        The tag remembers which page was on screen and how far it was edited: work done on
        it while the file loads was never asked about, so it is asked about then.
        """
        app = self.app
        tag = (path, app.page_serial, app.editor.history.token)
        if app.jobs.start("load", _read_page, path, tag=tag):
            app.status.say(f"Opening {Path(path).name}…")

    def on_load_done(
        self, payload: tuple[tuple[str, int, int], tuple[Editor, list[Image.Image]]]
    ) -> None:
        (path, serial, token), (editor, pyramid) = payload
        app, name = self.app, Path(path).name

        def show() -> None:
            app.show_page(editor, name, pyramid)
            w, h = editor.size
            app.status.say(f"Opened {name} ({w}×{h}) · Ctrl+R recognises")
            trace("loaded", path=path, size=[w, h])

        ed = app.editor
        if ed.drawing.drawing:  # a stroke in progress becomes an undo step when the button is up
            app.root.after(LOAD_RETRY_MS, lambda: app.closed or self.on_load_done(payload))
            return
        if (serial, token) == (app.page_serial, ed.history.token):
            show()  # untouched since Open asked about its unsaved work
            return
        app.status.say(f"{name} is read; this page changed while it loaded")
        self.confirm_discard(f"opening {name}", show)

    def on_load_failed(self, payload: tuple[tuple[str, int, int], BaseException]) -> None:
        self.app.show_error(payload[1])

    # ----- unsaved work ------------------------------------------------------------------------

    def confirm_discard(self, action: str, then: Callable[[], None]) -> None:
        """Run ``then`` unless unsaved work would be lost and the person says no.

        A recognised page offers Save first (``then`` runs once the save has committed); a
        drawing that was never recognised can only be kept or discarded.
        """
        ed, parent = self.app.editor, self.app.root
        if not ed.dirty:
            then()
            return
        if not ed.recognised:
            if messagebox.askokcancel(
                "Unsaved drawing",
                f"This drawing has not been recognised or saved. Discard it before {action}?",
                parent=parent,
            ):
                then()
            return
        answer = messagebox.askyesnocancel(
            "Unsaved review", f"Save your corrections before {action}?", parent=parent
        )
        if answer is None:
            return
        if answer:
            self.save(then=then)
        else:
            then()


def _read_page(path: str) -> tuple[Editor, list[Image.Image]]:
    """The page at ``path`` as a new editor, and the halved copies the view renders it from,
    made on the worker: copying a big photo into the page buffer, halving it and looking for
    its ink take long enough to be felt on the Tk thread (0.35-0.6 s for a 108 MP scan).

    Raises:
        ImageError: the file cannot be read as an image (one line).
    """
    editor = Editor(services.load_page(path), source="loaded")
    editor.drawing.has_ink()  # its first look is at the whole page
    return editor, make_pyramid(editor.drawing.image)
