"""The undo history's bound: once steps are dropped, its bottom is no longer the page as it came
or as it was saved (helper-53: 201 strokes undone 200 times left ink on a page marked clean)."""

from __future__ import annotations

from dataclasses import dataclass

from digitpad.ui.history import History


@dataclass
class _Step:
    label: str = "stroke"

    def undo(self) -> None:
        pass

    def redo(self) -> None:
        pass


def test_undoing_all_that_is_kept_after_steps_were_dropped_is_not_the_page_as_it_came():
    h = History(limit=3)
    for _ in range(4):
        h.push(_Step())
    while h.can_undo:
        h.undo()
    assert h.dirty  # the first step is still applied, and cannot be undone


def test_a_save_at_the_state_the_dropped_steps_left_is_still_known():
    h = History(limit=3)
    h.push(_Step())
    h.mark_saved()
    for _ in range(3):
        h.push(_Step())  # the saved step is dropped; the bottom is the saved state
    while h.can_undo:
        h.undo()
    assert not h.dirty
    h.clear()
    assert not h.dirty and h.token == 0
