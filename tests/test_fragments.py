"""Fragments of a broken faint digit joined when the classifier reads their union as one."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.fragments import (
    SPECKS_SURE,
    UNION_SURE,
    fragment_unions,
    join_fragments,
    join_specks,
    speck_unions,
    sure_unions,
)
from digitpad.recognise_service import read_segmented
from digitpad.segment import Segmentation
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


def test_too_short_or_too_tall_parts_make_no_union() -> None:
    # two slivers a fifth of a digit high: their union is too short for a digit
    low = [Box(100, 0, 120, 8), Box(100, 10, 120, 18)]
    assert fragment_unions([*DIGITS, *low], _rows(1, 4, 7, 10, 10)) == []
    # a part as tall as a digit is no fragment, though read "not a digit" (a whole letter)
    tall = [Box(100, 0, 124, 38), Box(126, 20, 130, 30)]
    assert fragment_unions([*DIGITS, *tall], _rows(1, 4, 7, 10, 10)) == []


def test_a_chain_of_three_fragments_is_one_union() -> None:
    tip = Box(126, 10, 130, 20)  # the right end of the arc, broken off too
    unions = fragment_unions([*DIGITS, ARC, tip, FOOT], _rows(1, 4, 7, 10, 10, 10))
    assert unions == [(Box(98, 0, 130, 40), (3, 4, 5))]


def test_a_union_holding_another_box_is_not_offered() -> None:
    # two marks above and below a digit read as such: their union would report it twice
    marks = [Box(30, -8, 55, -2), Box(30, 42, 55, 48)]
    assert fragment_unions([*DIGITS, *marks], _rows(1, 4, 7, 10, 10)) == []


def test_only_unions_read_surely_as_a_digit_replace_their_fragments() -> None:
    # fragments between digits, two groups: a faint 2 and a faint 5
    arc5, foot5 = Box(200, 0, 224, 14), Box(198, 24, 226, 40)
    boxes = [DIGITS[0], ARC, DIGITS[1], FOOT, arc5, DIGITS[2], foot5]
    probs = _rows(1, 10, 4, 10, 10, 7, 10)
    calls: list[list[Box]] = []

    def read(batch: list[Box]) -> np.ndarray:
        calls.append(batch)
        return np.vstack([_rows(2, level=0.95), _rows(5, level=UNION_SURE - 0.1)])

    out, out_probs, taken = join_fragments(boxes, probs, read)
    two = Box(98, 0, 126, 40)
    assert calls == [[two, Box(198, 0, 226, 40)]]
    assert out == [DIGITS[0], DIGITS[1], arc5, DIGITS[2], foot5, two] and taken == {two}
    assert np.array_equal(out_probs[:5], probs[[0, 2, 4, 5, 6]])
    assert out_probs[5, 2] == np.float32(0.95)
    assert sure_unions([(ARC, (0,))], _rows(2, level=UNION_SURE - 0.1)) == []
    calls.clear()
    plain = _rows(1, 4, 7)
    assert join_fragments(DIGITS, plain, read) == (DIGITS, plain, frozenset())
    assert calls == []  # no fragments: no extra read


def test_read_segmented_reads_page_then_unions_and_keeps_the_union_whole() -> None:
    ink = np.zeros((60, 160), np.uint8)
    ink[0:40, 100:104] = ink[0:40, 120:124] = 255  # two strokes: the union has a cut to try
    seg = Segmentation(ink_u8=ink, scale=1.0, boxes=[], ink_boxes=[*DIGITS, ARC, FOOT])
    two = Box(98, 0, 126, 40)
    truth = {DIGITS[0]: 1, DIGITS[1]: 4, DIGITS[2]: 7, ARC: 10, FOOT: 10, two: 2}
    calls: list[list[Box]] = []

    def read(batch: list[Box]) -> np.ndarray:
        calls.append(batch)
        # the union at 0.8: unsure enough that cuts would be tried if it were not settled
        return np.vstack([_rows(truth.get(b, 10), level=0.8 if b == two else 0.97) for b in batch])

    parts = read_segmented(seg, read)
    assert calls == [[*DIGITS, ARC, FOOT], [two]]  # the union is never cut again
    assert [(b, int(np.argmax(p))) for b, p in parts] == [
        (DIGITS[0], 1),
        (DIGITS[1], 4),
        (DIGITS[2], 7),
        (two, 2),
    ]
    calls.clear()
    bare = read_segmented(seg, read, unions=False)
    assert [two] not in calls and [b for b, _ in bare] == [*DIGITS, ARC, FOOT]


def test_boxes_and_rows_must_match() -> None:
    with pytest.raises(ValueError, match="3 boxes but 2 rows"):
        fragment_unions(DIGITS, _rows(1, 4))


# a faint 5 of which the mask kept only its flag; the specks of its bowl came loose around it
FLAG = Box(100, 0, 122, 12)
FIVE = Box(98, 0, 124, 40)


def _loose(*boxes: Box) -> np.ndarray:
    """Loose boxes as the segmenter gives them (see ``loose_boxes``)."""
    return np.array([b.as_tuple() for b in boxes], np.int32).reshape(-1, 4)


def test_a_loose_box_is_offered_only_around_a_fragment_and_at_a_digits_size() -> None:
    probs = _rows(1, 4, 7, NOT_DIGIT_INDEX)
    loose = _loose(
        FIVE,  # holds the flag, digit-sized: offered
        Box(140, 0, 165, 40),  # digit-sized, but holds no fragment (grain, a smudge)
        Box(0, 0, 26, 41),  # around a digit already read
        Box(98, 0, 124, 80),  # holds the flag, but twice a digit's height
        Box(99, 0, 103, 40),  # a line of specks as thin as a "1"
        Box(98, 0, 150, 40),  # holds the flag, but wider than a digit
    )
    assert speck_unions([*DIGITS, FLAG], probs, loose) == [(FIVE, (3,))]
    # around a narrow "1" read already (IoU under 0.1, but all of it inside): no digit's
    one, mark = Box(140, 0, 143, 40), Box(150, 5, 160, 15)
    wide = _loose(Box(130, 0, 165, 40))
    assert speck_unions([*DIGITS, one, mark], _rows(1, 4, 7, 1, 10), wide) == []
    # a loose box that is the fragment itself adds nothing to read
    assert speck_unions([*DIGITS, FIVE], probs, _loose(FIVE)) == []
    # under three digits read, the page's digit size is unknown
    assert speck_unions([DIGITS[0], DIGITS[1], FLAG], _rows(1, 4, 10), _loose(FIVE)) == []
    assert speck_unions([*DIGITS, FLAG], probs, _loose()) == []
    with pytest.raises(ValueError, match="4 boxes but 3 rows"):
        speck_unions([*DIGITS, FLAG], _rows(1, 4, 7), _loose(FIVE))


def test_a_loose_box_read_surely_replaces_the_fragments_it_holds() -> None:
    tail = Box(104, 30, 118, 40)  # the end of the bowl, a second fragment in the loose box
    boxes = [*DIGITS, FLAG, tail]
    probs = _rows(1, 4, 7, 10, 10)
    calls: list[list[Box]] = []

    def read_at(level: float):
        def read(batch: list[Box]) -> np.ndarray:
            calls.append(batch)
            return _rows(5, level=level)

        return read

    out, out_probs, taken = join_specks(
        boxes, probs, read_at(SPECKS_SURE), lambda around, reach: _loose(FIVE)
    )
    assert calls == [[FIVE]]
    assert out == [*DIGITS, FIVE] and taken == {FIVE}
    assert np.array_equal(out_probs[:3], probs[:3]) and int(np.argmax(out_probs[3])) == 5
    # read less surely, it changes nothing
    unsure = join_specks(
        boxes, probs, read_at(SPECKS_SURE - 0.05), lambda around, reach: _loose(FIVE)
    )
    assert unsure == (boxes, probs, frozenset())


def test_no_fragment_no_loose_boxes_computed_and_nothing_read() -> None:
    def never(*_: object) -> np.ndarray:
        raise AssertionError("called on a page without fragments")

    plain = _rows(1, 4, 7)
    assert join_specks(DIGITS, plain, never, never) == (DIGITS, plain, frozenset())
    # the loose boxes are asked for near the fragments only, as far as a union may reach
    asked: list[tuple[list[Box], tuple[int, int]]] = []

    def loose(around: list[Box], reach: tuple[int, int]) -> np.ndarray:
        asked.append((around, reach))
        return _loose()

    join_specks([*DIGITS, FLAG], _rows(1, 4, 7, 10), never, loose)
    assert asked == [([FLAG], (40, 52))]


def test_read_segmented_reads_a_fragment_with_its_specks_and_keeps_it_whole() -> None:
    ink = np.zeros((60, 160), np.uint8)
    for box in DIGITS:
        ink[box.y0 : box.y1, box.x0 + 10 : box.x0 + 13] = 255
    flag = Box(100, 0, 126, 12)
    ink[0:12, 100:126] = 255  # the flag, solid
    ink[14:40:3, 100] = ink[39, 100:126:3] = 120  # the specks of its bowl, two pixels apart
    seg = Segmentation(ink_u8=ink, scale=1.0, boxes=[], ink_boxes=[*DIGITS, flag])
    truth = {DIGITS[0]: 1, DIGITS[1]: 4, DIGITS[2]: 7}
    calls: list[list[Box]] = []

    def read(batch: list[Box]) -> np.ndarray:
        calls.append(batch)
        # the loose box at 0.9: sure enough to be taken, not so sure that no cut is tried
        return np.vstack(
            [
                _rows(truth[b]) if b in truth else _rows(5 if b.height > 30 else 10, level=0.9)
                for b in batch
            ]
        )

    parts = read_segmented(seg, read)
    loose = Box(100, 0, 126, 40)  # wide enough for a cut, but taken as one digit: never cut
    assert calls == [[*DIGITS, flag], [loose]]
    assert [(b, int(np.argmax(p))) for b, p in parts][-1] == (loose, 5)
    assert [b for b, _ in read_segmented(seg, read, unions=False)] == [*DIGITS, flag]


def test_of_two_sure_loose_boxes_holding_one_fragment_the_surer_is_taken() -> None:
    wider = Box(96, 0, 126, 40)  # another component's box, around the same flag
    boxes, probs = [*DIGITS, FLAG], _rows(1, 4, 7, 10)

    def read(batch: list[Box]) -> np.ndarray:
        assert batch == [FIVE, wider]
        return np.vstack([_rows(5, level=0.9), _rows(6, level=0.95)])

    out, _, taken = join_specks(boxes, probs, read, lambda around, reach: _loose(FIVE, wider))
    assert out == [*DIGITS, wider] and taken == {wider}


def test_sure_loose_boxes_that_overlap_are_not_both_taken() -> None:
    # the boxes of two components cross, each around its own fragment: one digit's ink
    a, b = Box(100, 0, 126, 40), Box(110, 2, 134, 40)
    frag_a, frag_b = Box(100, 0, 110, 10), Box(126, 30, 134, 38)
    boxes, probs = [*DIGITS, frag_a, frag_b], _rows(1, 4, 7, 10, 10)

    def read(batch: list[Box]) -> np.ndarray:
        assert batch == [a, b]
        return np.vstack([_rows(0, level=0.9), _rows(6, level=0.95)])

    out, _, taken = join_specks(boxes, probs, read, lambda around, reach: _loose(a, b))
    assert taken == {b} and out == [*DIGITS, frag_a, b]
