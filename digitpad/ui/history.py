"""Undo/redo for every edit of a page: box edits and ink strokes share one history.

An edit is applied *before* it is pushed; the history only remembers how to undo and redo it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Edit(Protocol):
    """Something done to the page that can be undone and redone."""

    label: str

    def undo(self) -> None:
        """Reverse the edit."""

    def redo(self) -> None:
        """Apply the edit again."""


@dataclass
class _Entry:
    serial: int
    edit: Edit


@dataclass
class History:
    """A bounded undo stack plus a redo stack, and a marker for "what was last saved".

    ``limit`` bounds memory (strokes keep image patches); it is well above the 50 steps the
    app promises.
    """

    limit: int = 200
    _undo: list[_Entry] = field(default_factory=list)
    _redo: list[_Entry] = field(default_factory=list)
    _serial: int = 0
    _saved_token: int = 0
    _sealed_token: int = 0  # a step being saved: no later edit joins it (see push_joined)
    # The token of the state under the oldest step kept: 0 (the page as it came) until steps
    # past ``limit`` are dropped, then the state the newest dropped one left.
    _base_token: int = 0

    def push(self, edit: Edit) -> None:
        """Record an edit that has just been applied. Clears the redo stack."""
        self._serial += 1
        self._undo.append(_Entry(self._serial, edit))
        self._redo.clear()
        if len(self._undo) > self.limit:
            self._base_token = self._undo.pop(0).serial

    def push_joined(self, edit: Edit, join: Callable[[Edit], Edit | None]) -> None:
        """Record ``edit``, which has just been applied, as part of the newest step when
        ``join(newest)`` gives one edit doing both and the newest step is not the saved state
        (a run of arrow-key nudges of one box is one step to undo, not one step a pixel);
        otherwise as a step of its own, as :meth:`push` does. Nor is a step being saved
        (see :meth:`seal`)."""
        if self._undo and self.token not in (self._saved_token, self._sealed_token):
            joined = join(self._undo[-1].edit)
            if joined is not None:
                del self._undo[-1]
                edit = joined
        self.push(edit)

    def undo(self) -> Edit | None:
        """Undo the last edit and return it, or None when there is nothing to undo."""
        if not self._undo:
            return None
        entry = self._undo.pop()
        entry.edit.undo()
        self._redo.append(entry)
        return entry.edit

    def redo(self) -> Edit | None:
        """Redo the last undone edit and return it, or None when there is nothing to redo."""
        if not self._redo:
            return None
        entry = self._redo.pop()
        entry.edit.redo()
        self._undo.append(entry)
        return entry.edit

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone edit to redo."""
        return bool(self._redo)

    @property
    def token(self) -> int:
        """Identifies the current state: the serial of the newest applied edit (0: the page as
        it came; after steps were dropped past ``limit``, the state the last dropped one left,
        which is no longer the page as it came or as it was saved before them)."""
        return self._undo[-1].serial if self._undo else self._base_token

    def seal(self) -> int:
        """Keep the current state a step of its own (a Save has taken it and is writing it on
        a worker; :meth:`mark_saved` follows when it is written), and return its token."""
        self._sealed_token = self.token
        return self._sealed_token

    def mark_saved(self, token: int | None = None) -> None:
        """Remember ``token`` (default: the current state) as the saved state."""
        self._saved_token = self.token if token is None else token

    @property
    def dirty(self) -> bool:
        """True when the current state differs from the saved one."""
        return self.token != self._saved_token

    def clear(self) -> None:
        """Forget every edit; the current state counts as saved."""
        self._undo.clear()
        self._redo.clear()
        self._saved_token = self._base_token = 0
