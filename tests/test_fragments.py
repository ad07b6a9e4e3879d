"""Fragments of a broken faint digit joined when the classifier reads their union as one."""

from __future__ import annotations

import numpy as np

from digitpad.fragments import UNION_SURE, fragment_unions, sure_unions
from digitpad.recognise_service import join_fragments
from digitpad.types import NOT_DIGIT_INDEX, Box


def _rows(*labels: int, level: float = 0.97) -> np.ndarray:
    """One probability row per label, ``level`` on it and the rest spread evenly."""
    rows = np.full((len(labels), 11), (1.0 - level) / 10, np.float32)
    for i, k in enumerate(labels):
        rows[i, k] = level
    return rows


# a row of three digits 40 high, then a 2 broken into its top arc and its foot
DIGITS = [Box(0, 0, 25, 40), Box(30, 0, 55, 40), Box(60, 0, 85, 40)]
ARC, FOOT = Box(100, 0, 124, 14), Box(98, 24, 126, 40)


def test_neighbouring_fragments_of_digit_size_are_offered_as_one() -> None:
    probs = _rows(1, 4, 7, NOT_DIGIT_INDEX, NOT_DIGIT_INDEX)
    unions = fragment_unions([*DIGITS, ARC, FOOT], probs)
    assert unions == [(Box(98, 0, 126, 40), (3, 4))]


def test_digits_far_fragments_and_oversized_unions_are_left_alone() -> None:
    # the foot read as a digit: nothing to join
    assert fragment_unions([*DIGITS, ARC, FOOT], _rows(1, 4, 7, NOT_DIGIT_INDEX, 2)) == []
    # the same fragments 30 px apart (the page's digits are 40 high): two marks, not one digit
    far = Box(98, 44, 126, 60)
    assert fragment_unions([*DIGITS, ARC, far], _rows(1, 4, 7, 10, 10)) == []
    # a long flat fragment beside the arc makes a union wider than a digit
    rule = Box(60, 20, 140, 26)
    assert fragment_unions([*DIGITS, ARC, rule], _rows(1, 4, 7, 10, 10)) == []
    # no digit on the page: no height to judge a union by
    assert fragment_unions([ARC, FOOT], _rows(10, 10)) == []


def test_only_unions_read_surely_as_a_digit_replace_their_fragments() -> None:
    boxes = [*DIGITS, ARC, FOOT]
    probs = _rows(1, 4, 7, NOT_DIGIT_INDEX, NOT_DIGIT_INDEX)
    calls: list[list[Box]] = []

    def read_as(level: float):
        def read(batch: list[Box]) -> np.ndarray:
            calls.append(batch)
            return _rows(2, level=level)

        return read

    out, out_probs = join_fragments(boxes, probs, read_as(0.95))
    assert out == [*DIGITS, Box(98, 0, 126, 40)]
    assert out_probs.shape == (4, 11) and out_probs[3, 2] == np.float32(0.95)
    assert np.array_equal(out_probs[:3], probs[:3])
    unsure = UNION_SURE - 0.1
    assert join_fragments(boxes, probs, read_as(unsure)) == (boxes, probs)
    assert sure_unions([(ARC, (0,))], _rows(2, level=unsure)) == []
    calls.clear()
    plain = _rows(1, 4, 7)
    assert join_fragments(DIGITS, plain, read_as(0.95)) == (DIGITS, plain)
    assert calls == []  # no fragments: no extra read
