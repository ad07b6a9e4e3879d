"""The app's editing model, without Tk: box edits, undo/redo, the review queue, Save's payload."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.types import NOT_DIGIT, Alternative, Box, Digit, PageResult
from digitpad.ui.editor import Editor, EditorError


def _digit(box, label, conf):
    alts = (Alternative("1", round(1 - conf, 3)),)
    return Digit(Box(*box), label, conf, alts)


def _result(*digits):
    return PageResult(
        digits=tuple(digits), text="", width=1000, height=700, model_version="v1", elapsed_ms=5
    )


@pytest.fixture
def editor():
    ed = Editor()
    ed.set_result(
        _result(
            _digit((10, 10, 40, 60), "7", 0.95),
            _digit((60, 10, 90, 60), "1", 0.40),
            _digit((110, 10, 140, 60), "3", 0.75),
            _digit((160, 10, 190, 60), "5", 0.99),
        )
    )
    return ed


def _by_label(ed, label):
    return next(b for b in ed.boxes if b.prediction and b.prediction.label == label)


def test_review_queue_is_least_confident_first_and_tab_wraps(editor):
    labels = [editor.get(i).label for i in editor.review_queue()]
    assert labels == ["1", "3", "7", "5"]
    assert editor.current.label == "1"  # recognition selects the first box of the queue
    seen = [editor.select_next() for _ in range(4)]
    assert [editor.get(i).label for i in seen] == ["3", "7", "5", "1"]
    editor.select_next(-1)
    assert editor.current.label == "5"


def test_enter_accepts_and_goes_to_next_unchecked(editor):
    first = editor.current.id
    editor.accept_and_next()
    assert first in editor.reviewed and editor.current.label == "3"
    editor.select(first)
    editor.accept_and_next()  # skips nothing new: "3" is next and unchecked
    assert editor.current.label == "3"
    assert not editor.dirty or editor.history.can_undo  # accepting is not an edit of the page


def test_relabel_delete_add_and_outcomes_follow_precedence(editor):
    editor.select(_by_label(editor, "1").id)
    assert editor.relabel("4")
    assert not editor.relabel("4")  # same label: no new undo step
    editor.select(_by_label(editor, "3").id)
    assert editor.delete_selected()
    moved = _by_label(editor, "7")
    assert editor.set_box(moved.id, Box(12, 10, 42, 60))
    new = editor.add_box(Box(300, 80, 250, 20))  # dragged up-left: normalised
    assert editor.get(new).box == Box(250, 20, 300, 80)
    with pytest.raises(EditorError, match="no digit yet"):
        editor.build_payload()
    editor.relabel("8")

    payload = editor.build_payload(saved_at=123.0)
    by_pred = {o.predicted_label: o for o in payload.boxes}
    assert by_pred["1"].outcome == "relabelled" and by_pred["1"].final_label == "4"
    assert by_pred["3"].outcome == "deleted" and by_pred["3"].final_label == NOT_DIGIT
    assert by_pred["3"].box == Box(110, 10, 140, 60)  # deleted keeps the predicted geometry
    assert by_pred["7"].outcome == "moved" and by_pred["7"].box == Box(12, 10, 42, 60)
    assert by_pred["7"].predicted_box == Box(10, 10, 40, 60)
    assert by_pred["5"].outcome == "accepted" and by_pred["5"].confidence == 0.99
    added = by_pred[None]
    assert added.outcome == "added" and added.final_label == "8" and added.confidence is None
    assert payload.model_version == "v1" and payload.source == "drawn"
    assert payload.image.shape == (700, 1000, 3) and payload.image.dtype == np.uint8
    assert payload.saved_at == 123.0 and payload.started_at > 1e9  # epoch seconds


def test_relabelled_then_deleted_counts_as_deleted_and_moved_relabel_as_relabelled(editor):
    box = _by_label(editor, "7")
    editor.select(box.id)
    editor.nudge(3, 0)
    editor.relabel("2")
    assert editor.get(box.id).outcome == "relabelled"  # relabelled beats moved
    editor.delete_selected()
    assert editor.get(box.id).outcome == "deleted"  # deleted beats relabelled


def test_deleting_an_added_box_removes_it(editor):
    new = editor.add_box(Box(300, 300, 340, 360), "6")
    editor.select(new)
    editor.delete_selected()
    assert editor.get(new) is None
    assert all(o.outcome != "added" for o in editor.build_payload().boxes)


def test_tiny_boxes_are_ignored_and_boxes_are_clipped(editor):
    assert editor.add_box(Box(5, 5, 7, 7)) is None
    new = editor.add_box(Box(980, 680, 1200, 900), "1")
    assert editor.get(new).box == Box(980, 680, 1000, 700)
    editor.nudge(50, 50)  # already at the corner: stays on the page
    assert editor.get(new).box == Box(980, 680, 1000, 700)


def test_undo_redo_every_kind_of_edit(editor):
    start_boxes = editor.boxes
    ink0 = editor.drawing.array()
    editor.select(_by_label(editor, "1").id)
    editor.relabel("9")
    editor.nudge(0, 5)
    editor.add_box(Box(300, 300, 340, 360), "2")
    editor.delete_selected()
    editor.drawing.begin(500, 500)
    editor.drawing.extend(560, 540)
    editor.commit_stroke(editor.drawing.end())
    ink1 = editor.drawing.array()
    assert not np.array_equal(ink0, ink1)

    assert editor.undo() == "stroke"
    assert np.array_equal(editor.drawing.array(), ink0)
    for _ in range(4):
        assert editor.undo() is not None
    assert editor.boxes == start_boxes
    for _ in range(5):
        assert editor.redo() is not None
    assert np.array_equal(editor.drawing.array(), ink1)
    assert editor.redo() is None
    assert editor.get(_by_label(editor, "1").id).label == "9"


def test_sixty_steps_of_undo_then_redo_round_trip():
    ed = Editor()
    snapshots = [(ed.boxes, ed.drawing.array())]
    for i in range(60):
        if i % 3 == 0:
            ed.drawing.begin(10 + i * 15, 100)
            ed.drawing.extend(12 + i * 15, 160)
            ed.commit_stroke(ed.drawing.end())
        elif i % 3 == 1:
            ed.add_box(Box(10 + i * 15, 100, 22 + i * 15, 160), str(i % 10))
        else:
            ed.relabel(str((i + 1) % 10))
        snapshots.append((ed.boxes, ed.drawing.array()))
    for i in range(60, 0, -1):
        assert ed.undo() is not None
        boxes, ink = snapshots[i - 1]
        assert ed.boxes == boxes and np.array_equal(ed.drawing.array(), ink)
    assert ed.undo() is None and not ed.dirty
    for i in range(1, 61):
        ed.redo()
        boxes, ink = snapshots[i]
        assert ed.boxes == boxes and np.array_equal(ed.drawing.array(), ink)


def test_new_edit_after_undo_drops_redo(editor):
    editor.relabel("2")
    editor.undo()
    editor.relabel("3")
    assert editor.redo() is None


def test_clear_wipes_ink_and_boxes_in_one_undoable_step(editor):
    editor.drawing.begin(300, 300)
    editor.commit_stroke(editor.drawing.end())
    assert editor.drawing.has_ink()
    boxes = editor.boxes
    assert editor.clear()
    assert not editor.drawing.has_ink() and editor.boxes == ()
    editor.undo()
    assert editor.drawing.has_ink() and editor.boxes == boxes
    editor.redo()
    editor.redo()
    assert not editor.clear()  # nothing left to clear


def test_dirty_flag_tracks_saves_and_undo():
    ed = Editor()
    assert not ed.dirty
    ed.drawing.begin(50, 50)
    ed.drawing.extend(80, 90)
    ed.commit_stroke(ed.drawing.end())
    assert ed.dirty
    ed.set_result(_result(_digit((40, 40, 90, 100), "1", 0.8)))
    token = ed.history.token
    ed.relabel("7")  # edited while the save was in flight
    ed.mark_saved(token)
    assert ed.dirty
    ed.undo()
    assert not ed.dirty
    ed.undo()
    assert ed.dirty  # back before the saved state


def test_undoing_recognition_forgets_model_version():
    ed = Editor()
    ed.set_result(_result(_digit((40, 40, 90, 100), "1", 0.8)))
    ed.undo()
    assert not ed.recognised
    with pytest.raises(EditorError, match="Recognise"):
        ed.build_payload()
    ed.redo()
    assert ed.build_payload().model_version == "v1"


def test_loaded_page_keeps_its_pixels_and_source():
    img = np.full((50, 80, 3), 200, np.uint8)
    ed = Editor(img, source="loaded")
    ed.set_result(PageResult((), "", 80, 50, "v2", 1.0))
    payload = ed.build_payload()
    assert payload.source == "loaded" and payload.boxes == ()
    assert np.array_equal(payload.image, img)
    with pytest.raises(ValueError):
        Editor(source="scanned")


def test_hit_prefers_smallest_box(editor):
    inner = editor.add_box(Box(15, 15, 30, 40), "1")
    assert editor.hit(20, 20).id == inner
    assert editor.hit(35, 50).prediction.label == "7"
    assert editor.hit(500, 500) is None


def test_clear_ends_the_review_so_a_blank_page_never_replaces_a_saved_one(editor):
    editor.relabel("4")
    editor.mark_saved()  # the review is in the store
    assert editor.clear()
    # Dirty, but nothing to save: saving would replace the stored review with an empty page.
    assert editor.dirty and not editor.recognised
    with pytest.raises(EditorError, match="Recognise"):
        editor.build_payload()
    editor.undo()
    assert editor.recognised and not editor.dirty
    assert [b.final_label for b in editor.build_payload().boxes] == ["7", "4", "3", "5"]


def test_clear_of_a_recognised_page_without_boxes_is_still_a_step():
    ed = Editor()
    ed.set_result(_result())  # recognised, nothing found
    assert ed.clear() and not ed.recognised
    ed.undo()
    assert ed.recognised


def test_a_run_of_nudges_of_one_box_is_one_undo_step(editor):
    # helper-50: each arrow press was a step of its own, and 200 of them pushed the
    # recognition and every relabel out of the history
    seven = _by_label(editor, "7")
    editor.select(seven.id)
    editor.relabel("2")
    for _ in range(250):
        editor.nudge(1, 0)
    assert editor.get(seven.id).box.x0 == seven.box.x0 + 250
    editor.undo()
    assert editor.get(seven.id).box == seven.box and editor.get(seven.id).label == "2"
    editor.redo()
    assert editor.get(seven.id).box.x0 == seven.box.x0 + 250
    editor.undo()
    editor.undo()  # the relabel, still in the history
    assert editor.get(seven.id).label == "7"


def test_nudges_part_at_another_box_another_edit_or_a_save(editor):
    seven, three = _by_label(editor, "7"), _by_label(editor, "3")
    editor.select(seven.id)
    editor.nudge(0, 2)
    editor.nudge(0, 2)
    editor.select(three.id)
    editor.nudge(1, 0)  # another box: a step of its own
    editor.relabel("8")
    editor.nudge(1, 0)  # after another edit: a step of its own
    editor.history.mark_saved()
    editor.nudge(1, 0)  # after a save: the saved state stays one step back
    assert editor.dirty
    editor.undo()
    assert not editor.dirty and editor.get(three.id).box.x0 == three.box.x0 + 2
    editor.undo()
    assert editor.get(three.id).box.x0 == three.box.x0 + 1
    editor.undo()
    editor.undo()
    assert editor.get(three.id).box == three.box
    editor.undo()
    assert editor.get(seven.id).box == seven.box


def test_a_nudge_while_a_save_is_written_does_not_join_the_step_it_saves(editor):
    # helper-52: Save marks its state saved only once the worker has written it; a nudge in
    # between joined that step, so no undo led back to the saved state
    seven = _by_label(editor, "7")
    editor.select(seven.id)
    editor.nudge(2, 0)
    editor.review_draft()  # Ctrl+S: the draft is taken, the worker writes it
    token = editor.history.token
    editor.nudge(1, 0)
    editor.mark_saved(token)  # the worker is done
    assert editor.dirty
    editor.undo()
    assert editor.get(seven.id).box.x0 == seven.box.x0 + 2 and not editor.dirty
