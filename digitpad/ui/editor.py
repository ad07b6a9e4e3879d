"""The page being reviewed, as plain Python: boxes, selection, review queue, edits, undo, Save.

No tkinter here: the window renders this state and forwards keys and mouse gestures to it, and
the tests drive it directly. Every change to the page (labels, geometry, added and deleted boxes,
ink strokes, Clear, a new recognition) goes through one :class:`~digitpad.ui.history.History`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from digitpad.errors import DigitpadError
from digitpad.types import (
    DIGITS,
    NOT_DIGIT,
    PAGE_SOURCES,
    Box,
    BoxOutcome,
    Digit,
    PageResult,
    ReviewPayload,
)
from digitpad.ui.drawing import ClearEdit, Drawing, PatchEdit
from digitpad.ui.history import History
from digitpad.ui.review_draft import ReviewDraft

MIN_BOX = 4  # pixels: anything smaller is a slip of the mouse, not a box
HISTORY_LIMIT = 200
NUDGE = "nudge box"  # the arrow keys' edit: a run of them on one box is one undo step


class EditorError(DigitpadError):
    """An edit or a save that cannot be done as asked (shown to the person as one line)."""


@dataclass(frozen=True, slots=True)
class EditBox:
    """One box on the page as the person currently sees it.

    ``prediction`` is what the model said (None for a box the person added); ``label`` is the
    current label ("0".."9", or None for a new box still waiting for its digit); ``deleted``
    marks a prediction the person rejected as "not a digit" (kept so Save records it).
    """

    id: int
    box: Box
    label: str | None
    prediction: Digit | None = None
    deleted: bool = False

    @property
    def confidence(self) -> float | None:
        """The model's confidence in this box, or None for a box the person added."""
        return None if self.prediction is None else self.prediction.confidence

    @property
    def added(self) -> bool:
        """Whether the person added this box (a digit the model missed)."""
        return self.prediction is None

    @property
    def outcome(self) -> str:
        """What Save will record, by precedence added > deleted > relabelled > moved > accepted."""
        if self.prediction is None:
            return "added"
        if self.deleted:
            return "deleted"
        if self.label != self.prediction.label:
            return "relabelled"
        if self.box != self.prediction.box:
            return "moved"
        return "accepted"


# Boxes, selection, model version and review start: everything a box edit can change.
_State = tuple[tuple[EditBox, ...], int | None, str | None, float | None]


@dataclass
class _BoxesEdit:
    """Boxes and selection before and after one edit (boxes are immutable, so this is cheap)."""

    label: str
    editor: Editor
    before: _State
    after: _State

    def after_nudge(self, last: object) -> _BoxesEdit | None:
        """This nudge and ``last`` as one edit, when ``last`` nudged the same box to where
        this one started (the person pressed an arrow key again); else None."""
        if isinstance(last, _BoxesEdit) and last.label == NUDGE and last.after == self.before:
            return _BoxesEdit(NUDGE, self.editor, last.before, self.after)
        return None

    def undo(self) -> None:
        """Restore the boxes and selection from before the edit."""
        self.editor._restore(*self.before)

    def redo(self) -> None:
        """Restore the boxes and selection from after the edit."""
        self.editor._restore(*self.after)


@dataclass
class _CompoundEdit:
    """Several edits done and undone as one step (Clear wipes ink and boxes together)."""

    label: str
    parts: tuple[_BoxesEdit | ClearEdit, ...]

    def undo(self) -> None:
        """Undo every part, last first."""
        for part in reversed(self.parts):
            part.undo()

    def redo(self) -> None:
        """Redo every part, in order."""
        for part in self.parts:
            part.redo()


class Editor:
    """One page under review. Methods that change the page push exactly one undoable edit."""

    def __init__(self, image: np.ndarray | None = None, *, source: str = "drawn") -> None:
        """A blank drawing page, or ``image`` (RGB uint8) loaded from ``source``."""
        if source not in PAGE_SOURCES:
            raise ValueError(f"unknown page source {source!r}")
        self.drawing = Drawing(image)
        self.source = source
        self.boxes: tuple[EditBox, ...] = ()
        self.selected: int | None = None
        self.model_version: str | None = None
        self.started_at: float | None = None
        self.history = History(limit=HISTORY_LIMIT)
        self.reviewed: set[int] = set()  # boxes accepted with Enter (display only, not an edit)
        self.revision = 0  # bumps on every box/selection change, so views know to redraw
        self._next_id = 1

    # ----- queries -------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the page in pixels."""
        return self.drawing.size

    @property
    def dirty(self) -> bool:
        """Unsaved work: any edit since the last save (or since the page was opened)."""
        return self.history.dirty

    @property
    def recognised(self) -> bool:
        """Whether the page has been recognised (so it can be saved)."""
        return self.model_version is not None

    def visible(self) -> list[EditBox]:
        """Boxes shown on the page (deleted predictions are hidden)."""
        return [b for b in self.boxes if not b.deleted]

    def get(self, box_id: int | None) -> EditBox | None:
        """The box with ``box_id``, or None (also for None)."""
        for b in self.boxes:
            if b.id == box_id:
                return b
        return None

    @property
    def current(self) -> EditBox | None:
        """The selected box, if it is visible."""
        box = self.get(self.selected)
        return None if box is None or box.deleted else box

    def review_queue(self) -> list[int]:
        """Visible box ids, least confident first.

        A new box still waiting for its digit comes first (it needs the person); boxes the
        person added come last (nothing to check). Ties go top to bottom, left to right.
        """

        def key(b: EditBox) -> tuple[float, int, int]:
            if b.label is None:
                rank = -1.0
            elif b.prediction is None:
                rank = 2.0
            else:
                rank = b.prediction.confidence
            return (rank, b.box.y0, b.box.x0)

        return [b.id for b in sorted(self.visible(), key=key)]

    def hit(self, x: float, y: float) -> EditBox | None:
        """The smallest visible box containing page point (x, y)."""
        inside = [
            b for b in self.visible() if b.box.x0 <= x < b.box.x1 and b.box.y0 <= y < b.box.y1
        ]
        return min(inside, key=lambda b: b.box.area) if inside else None

    # ----- selection and the review queue (not edits: they do not touch the page) ------------

    def select(self, box_id: int | None) -> None:
        """Select the box with ``box_id``; an unknown id (or None) deselects."""
        self.selected = box_id if self.get(box_id) is not None else None
        self.revision += 1

    def select_next(self, step: int = 1) -> int | None:
        """Move along the review queue (wrapping); ``step`` -1 goes back. Returns the new id."""
        queue = self.review_queue()
        if not queue:
            self.select(None)
            return None
        if self.selected in queue:
            idx = (queue.index(self.selected) + step) % len(queue)
        else:
            idx = 0 if step > 0 else len(queue) - 1
        self.select(queue[idx])
        return self.selected

    def accept_and_next(self) -> int | None:
        """Mark the selected box as checked and go to the next unchecked one in the queue."""
        if self.current is not None:
            self.reviewed.add(self.current.id)
            self.revision += 1
        queue = self.review_queue()
        if not queue:
            return None
        start = queue.index(self.selected) + 1 if self.selected in queue else 0
        for i in range(len(queue)):
            box_id = queue[(start + i) % len(queue)]
            if box_id not in self.reviewed:
                self.select(box_id)
                return box_id
        return self.select_next()

    # ----- edits ------------------------------------------------------------------------------

    def set_result(self, result: PageResult) -> None:
        """Show a fresh recognition: its digits replace every box (one undoable step)."""
        boxes = []
        for digit in result.digits:
            boxes.append(EditBox(self._new_id(), digit.box, digit.label, digit))
        before = self._state()
        self.boxes = tuple(boxes)
        self.reviewed.clear()
        self.model_version = result.model_version
        self.started_at = time.time()
        queue = self.review_queue()
        self.selected = queue[0] if queue else None
        self._push("recognise", before)

    def relabel(self, label: str) -> bool:
        """Give the selected box ``label`` ("0".."9"). Returns False when nothing changed."""
        if label not in DIGITS:
            raise ValueError(f"not a digit label: {label!r}")
        box = self.current
        if box is None or box.label == label:
            return False
        self._replace(box, label=label, edit=f"relabel to {label}")
        return True

    def delete_selected(self) -> bool:
        """ "Not a digit": hide a prediction (Save records it as deleted), drop an added box.

        Selects the next box in the review queue. Returns False when nothing was selected.
        """
        box = self.current
        if box is None:
            return False
        queue = self.review_queue()
        after = queue[(queue.index(box.id) + 1) % len(queue)] if len(queue) > 1 else None
        before = self._state()
        if box.added:
            self.boxes = tuple(b for b in self.boxes if b.id != box.id)
        else:
            self.boxes = tuple(
                replace(b, deleted=True) if b.id == box.id else b for b in self.boxes
            )
        self.selected = after
        self._push("not a digit", before)
        return True

    def add_box(self, box: Box, label: str | None = None) -> int | None:
        """Add a box the model missed (clipped to the page) and select it; its digit comes next.

        Returns the new id, or None when the box is too small to be meant.
        """
        box = _normalise(box).clip(*self.size)
        if box.width < MIN_BOX or box.height < MIN_BOX:
            return None
        if label is not None and label not in DIGITS:
            raise ValueError(f"not a digit label: {label!r}")
        before = self._state()
        new = EditBox(self._new_id(), box, label)
        self.boxes = (*self.boxes, new)
        self.selected = new.id
        self._push("add box", before)
        return new.id

    def set_box(self, box_id: int, box: Box, *, edit: str = "move box") -> bool:
        """Move or resize a box to ``box`` (clipped to the page). False when nothing changed."""
        current = self.get(box_id)
        box = _normalise(box).clip(*self.size)
        if current is None or current.deleted or box == current.box:
            return False
        if box.width < MIN_BOX or box.height < MIN_BOX:
            return False
        self._replace(current, box=box, edit=edit)
        return True

    def nudge(self, dx: int, dy: int) -> bool:
        """Move the selected box by (dx, dy) pixels, staying on the page."""
        box = self.current
        if box is None:
            return False
        w, h = self.size
        dx = max(-box.box.x0, min(dx, w - box.box.x1))
        dy = max(-box.box.y0, min(dy, h - box.box.y1))
        b = box.box
        return self.set_box(box.id, Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy), edit=NUDGE)

    def commit_stroke(self, edit: PatchEdit | None) -> None:
        """Record a finished stroke (from :meth:`Drawing.end`) as one undoable step."""
        if edit is not None:
            self.history.push(edit)
            self.revision += 1

    def clear(self) -> bool:
        """Wipe the ink and every box, as one undoable step. False when already empty.

        The recognition goes too: a blank page is no review, so Save is off until the next
        Recognise (saving it would replace the page's earlier save with nothing).
        """
        before = self._state()
        patch = self.drawing.clear()
        self.boxes, self.selected = (), None
        self.model_version, self.started_at = None, None
        boxes_edit = _BoxesEdit("clear boxes", self, before, self._state())
        parts: list[_BoxesEdit | ClearEdit] = []
        if before != boxes_edit.after:
            parts.append(boxes_edit)
        if patch is not None:
            parts.append(patch)
        if not parts:
            return False
        self.history.push(_CompoundEdit("clear", tuple(parts)))
        self.revision += 1
        return True

    def undo(self) -> str | None:
        """Undo one step; returns its name, or None when there was nothing to undo."""
        edit = self.history.undo()
        self.revision += 1
        return None if edit is None else edit.label

    def redo(self) -> str | None:
        """Redo one step; returns its name, or None when there was nothing to redo."""
        edit = self.history.redo()
        self.revision += 1
        return None if edit is None else edit.label

    # ----- save --------------------------------------------------------------------------------

    def outcomes(self) -> tuple[BoxOutcome, ...]:
        """Every box as the store will record it (deleted predictions included).

        Raises:
            EditorError: a box the person added has no digit yet.
        """
        out = []
        for b in self.boxes:
            if b.label is None:
                raise EditorError(
                    "a new box has no digit yet: select it and type its digit, or press Delete"
                )
            pred = b.prediction
            deleted = b.outcome == "deleted"
            out.append(
                BoxOutcome(
                    box=pred.box if deleted and pred is not None else b.box,
                    final_label=NOT_DIGIT if deleted else b.label,
                    outcome=b.outcome,
                    predicted_box=None if pred is None else pred.box,
                    predicted_label=None if pred is None else pred.label,
                    confidence=None if pred is None else pred.confidence,
                    alternatives=() if pred is None else pred.alternatives,
                )
            )
        return tuple(out)

    def review_draft(self, saved_at: float | None = None) -> ReviewDraft:
        """What Save writes, frozen as it is now, in time independent of the page's size.

        Raises:
            EditorError: the page was never recognised, or a new box has no digit yet.
        """
        if self.model_version is None or self.started_at is None:
            raise EditorError("nothing to save yet: press Recognise (Ctrl+R) first")
        outcomes = self.outcomes()
        self.history.seal()  # a nudge while it is written must not join the step it saves
        return ReviewDraft(
            page=self.drawing.snapshot(),
            source=self.source,
            model_version=self.model_version,
            started_at=self.started_at,
            saved_at=time.time() if saved_at is None else saved_at,
            boxes=outcomes,
        )

    def build_payload(self, saved_at: float | None = None) -> ReviewPayload:
        """What Save writes in one transaction: the page and every box outcome (a full copy
        of the page: the app builds it on the saving worker, through :meth:`review_draft`).

        Raises:
            EditorError: the page was never recognised, or a new box has no digit yet.
        """
        return self.review_draft(saved_at).payload()

    def mark_saved(self, token: int | None = None) -> None:
        """The state identified by ``token`` (default: now) is in the store."""
        self.history.mark_saved(token)

    # ----- internals -----------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _state(self) -> _State:
        return (self.boxes, self.selected, self.model_version, self.started_at)

    def _restore(
        self,
        boxes: tuple[EditBox, ...],
        selected: int | None,
        model_version: str | None,
        started_at: float | None,
    ) -> None:
        self.boxes, self.selected = boxes, selected
        self.model_version, self.started_at = model_version, started_at
        self.revision += 1

    def _replace(self, target: EditBox, *, edit: str, **changes: object) -> None:
        """Change fields of ``target`` (and select it) as one undoable step."""
        before = self._state()
        self.boxes = tuple(replace(b, **changes) if b.id == target.id else b for b in self.boxes)
        self.selected = target.id
        self._push(edit, before)

    def _push(self, label: str, before: _State) -> None:
        edit = _BoxesEdit(label, self, before, self._state())
        if label == NUDGE:
            self.history.push_joined(edit, edit.after_nudge)
        else:
            self.history.push(edit)
        self.revision += 1


def _normalise(box: Box) -> Box:
    """The same box with x0 <= x1 and y0 <= y1 (a drag may go up or left)."""
    return Box(min(box.x0, box.x1), min(box.y0, box.y1), max(box.x0, box.x1), max(box.y0, box.y1))
