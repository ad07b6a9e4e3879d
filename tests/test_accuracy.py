"""digitpad.accuracy: the one definition of live accuracy."""

from __future__ import annotations

import pytest

from digitpad.accuracy import (
    AccuracyCounts,
    counts,
    format_accuracy,
    is_correct,
    tally,
    trailing,
)
from digitpad.types import NOT_DIGIT, Box, BoxOutcome

P = Box(10, 10, 20, 30)


def _pred(final: str, outcome: str, box: Box = P, predicted: str = "3") -> BoxOutcome:
    return BoxOutcome(
        box, final, outcome, predicted_box=P, predicted_label=predicted, confidence=0.9
    )


def test_accepted_is_right():
    assert is_correct(_pred("3", "accepted")) and counts(_pred("3", "accepted"))


def test_relabelled_is_wrong():
    assert not is_correct(_pred("8", "relabelled"))
    assert counts(_pred("8", "relabelled"))


def test_deleted_prediction_is_wrong_and_counts():
    deleted = _pred(NOT_DIGIT, "deleted")
    assert counts(deleted) and not is_correct(deleted)


def test_small_move_is_right_big_move_is_wrong():
    small = Box(10, 10, 21, 31)  # IoU 200/231 = 0.87
    big = Box(15, 20, 25, 40)  # IoU 50/350 = 0.14
    assert is_correct(_pred("3", "moved", small))
    assert not is_correct(_pred("3", "moved", big))
    # Exactly at the threshold counts as right: IoU = 100/200 = 0.5.
    half = Box(10, 10, 20, 50)
    assert half.iou(P) == pytest.approx(0.5)
    assert is_correct(_pred("3", "moved", half))
    # Moved and relabelled: wrong however small the move.
    assert not is_correct(_pred("4", "relabelled", small))


def test_added_digit_is_a_miss_added_non_digit_does_not_count():
    missed = BoxOutcome(Box(0, 0, 5, 5), "7", "added")
    assert counts(missed) and not is_correct(missed)
    assert not counts(BoxOutcome(Box(0, 0, 5, 5), NOT_DIGIT, "added"))


def test_tally_matches_the_issue_formula():
    boxes = [
        _pred("3", "accepted"),
        _pred("3", "accepted"),
        _pred("3", "moved", Box(11, 10, 21, 30)),
        _pred("5", "relabelled"),
        _pred(NOT_DIGIT, "deleted"),
        BoxOutcome(Box(0, 0, 5, 5), "7", "added"),
        BoxOutcome(Box(0, 0, 5, 5), NOT_DIGIT, "added"),
    ]
    # right = 3; denominator = 5 predictions + 1 missed digit.
    assert tally(boxes) == AccuracyCounts(3, 6)
    assert tally(boxes).accuracy == pytest.approx(0.5)


def test_no_data_is_not_zero_percent():
    assert AccuracyCounts().accuracy is None
    assert format_accuracy(None) == "n/a"
    assert format_accuracy(0.96834) == "96.8%"
    assert AccuracyCounts(1, 2) + AccuracyCounts(2, 3) == AccuracyCounts(3, 5)


def test_trailing_window_at_each_moment():
    right = [True, False, True, True]
    windows = trailing(right, [0, 2, 4], 3)
    assert [(w.correct, w.total) for w in windows] == [(0, 0), (1, 2), (2, 3)]
    assert trailing(right, [4], 100)[0] == AccuracyCounts(3, 4)
    with pytest.raises(ValueError, match="at least one box"):
        trailing(right, [1], 0)
    with pytest.raises(ValueError, match="outside"):
        trailing(right, [5], 2)
