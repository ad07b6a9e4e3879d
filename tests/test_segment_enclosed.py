"""Digits inside a bigger mark's box: a ring drawn round a number or a digit, a fold or a line
struck through beside one, and a digit many times the size of the page's others. Each is found
whole on its own, and ``segment(..., v1_crops=True)`` gives what the shipped weights' training
crops were cut from."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.recognise_service import Recogniser
from digitpad.segment import raw_boxes, segment
from digitpad.synth.pages import PageConfig, generate_pages
from digitpad.training.data import synth_glyph
from digitpad.types import Box

DIGITS = "31415"
DIGIT_X0, BASELINE, STEP = 200, 270, 60


def _number_page(h: int = 500, w: int = 700) -> np.ndarray:
    """A white page with DIGITS written in a Hershey font, about 42 px high, in one row."""
    img = np.full((h, w, 3), 255, np.uint8)
    for i, d in enumerate(DIGITS):
        x = DIGIT_X0 + STEP * i
        cv2.putText(img, d, (x, BASELINE), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (0, 0, 0), 5)
    return img


def _digit_boxes(boxes: list[Box]) -> list[Box]:
    """The boxes about one digit high on the digits' row, left to right."""
    row = [b for b in boxes if 30 <= b.height <= 60 and b.y0 >= BASELINE - 60 and b.y1 <= 290]
    return sorted(row, key=lambda b: b.x0)


def test_ringed_number_keeps_its_digits() -> None:
    img = _number_page()
    cv2.circle(img, (340, 250), 200, (0, 0, 0), 3)  # round the whole number, touching none
    digits = _digit_boxes(segment(img).boxes)
    assert len(digits) == len(DIGITS)
    assert all(
        DIGIT_X0 - 5 + STEP * i <= b.x0 <= DIGIT_X0 + 5 + STEP * i for i, b in enumerate(digits)
    )
    # as the shipped weights' crops were cut: the ring's outer boundary hides what it holds
    assert _digit_boxes(segment(img, v1_crops=True).boxes) == []


def test_digit_ringed_alone_is_found_without_its_ring() -> None:
    img = _number_page()
    for i in (0, 2, 4):  # "3", "4" and "5" circled one by one
        cv2.circle(img, (DIGIT_X0 + 22 + STEP * i, 250), 34, (0, 0, 0), 2)
    boxes = segment(img).boxes
    assert len(_digit_boxes(boxes)) == len(DIGITS)
    assert not any(b.height >= 60 for b in boxes)  # no ring proposed as a digit
    old = segment(img, v1_crops=True).boxes
    assert sum(b.height >= 60 for b in old) == 3  # each ring and its digit were one box


def test_fold_beside_a_number_takes_none_of_its_digits() -> None:
    img = _number_page()
    # a long faint steep line down the page, between the 4 and the 1, touching neither; its
    # box holds most of both
    cv2.line(img, (330, 0), (410, 499), (90, 90, 90), 2)
    assert len(_digit_boxes(segment(img).boxes)) == len(DIGITS)
    # the line is 500 px tall, more than HUGE_PART digit heights: without the rule it took them
    assert len(_digit_boxes(segment(img, v1_crops=True).boxes)) == len(DIGITS) - 2


def test_speck_in_a_zero_and_a_huge_four_in_two_strokes_stay_one_box() -> None:
    img = np.full((700, 900, 3), 255, np.uint8)
    cv2.ellipse(img, (120, 120), (30, 45), 0, 0, 360, (0, 0, 0), 5)  # a 0 ...
    cv2.circle(img, (120, 120), 3, (0, 0, 0), -1)  # ... with a speck in its loop
    for i, d in enumerate("1234"):  # small digits, so the typical digit is small
        cv2.putText(img, d, (250 + 45 * i, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (0, 0, 0), 5)
    # a 4 two thirds of the page high: the open "L" and the upright apart, not touching
    cv2.polylines(img, [np.array([[600, 200], [480, 480], [570, 480]])], False, (0, 0, 0), 14)
    cv2.line(img, (545, 320), (545, 660), (0, 0, 0), 14)
    boxes = segment(img).boxes
    zero = [b for b in boxes if b.x0 < 200]
    assert len(zero) == 1 and zero[0].height >= 90
    four = [b for b in boxes if b.x0 >= 450]
    assert len(four) == 1 and four[0].y0 <= 200 and four[0].y1 >= 660 and four[0].x1 >= 570


def test_raw_boxes_ring_left_out_only_when_it_holds_a_digit_sized_component() -> None:
    m = np.zeros((200, 400), np.uint8)
    cv2.circle(m, (100, 100), 60, 1, 3)
    cv2.line(m, (100, 70), (100, 130), 1, 4)  # a "1" inside the first ring
    cv2.circle(m, (300, 100), 60, 1, 3)
    cv2.circle(m, (300, 100), 3, 1, -1)  # only a speck inside the second
    boxes = sorted(raw_boxes(m), key=lambda b: (b[0], b[1]))
    # the "1", the second ring and its speck (for merge_strokes to join); the first ring left out
    assert [b[:4] for b in boxes] == [[98, 68, 103, 133], [238, 38, 363, 163], [297, 97, 304, 104]]
    assert len(raw_boxes(m, enclosed=False)) == 2  # the two rings, what they hold hidden


def test_ringed_and_circled_numbers_read_whole(recogniser: Recogniser) -> None:
    ringed = _number_page()
    cv2.circle(ringed, (340, 250), 200, (0, 0, 0), 3)
    assert recogniser.recognise(ringed).text == DIGITS
    circled = _number_page()
    for i in (0, 2, 4):
        cv2.circle(circled, (DIGIT_X0 + 22 + STEP * i, 250), 34, (0, 0, 0), 2)
    assert recogniser.recognise(circled).text == DIGITS


def _glyph_page(big: str, seed: int) -> np.ndarray:
    """Small handwritten "3816" (30 px) and one digit ``big`` 330 px high below it, drawn by the
    generator's glyph renderer."""
    ink = np.zeros((700, 1000), np.float32)
    x = 60
    for k, label in enumerate("3816"):
        g = synth_glyph(label, 30, np.random.default_rng([seed, k]))
        ink[90 - g.shape[0] : 90, x : x + g.shape[1]] = g
        x += g.shape[1] + 6
    g = synth_glyph(big, 330, np.random.default_rng([seed, 99]))
    ink[580 - g.shape[0] : 580, 400 : 400 + g.shape[1]] = g
    return (255 - ink[..., None] * 235).clip(0, 255).astype(np.uint8).repeat(3, 2)


def test_flat_strokes_of_a_huge_digit_are_no_underlines() -> None:
    # a 4 330 px high among digits 30 px high: the bar across it is a thin run over 2.5 of the
    # page's digits long, and as an underline it was removed, leaving two pieces
    img = _glyph_page("4", 1)
    (four,) = [b for b in segment(img).boxes if b.height > 60]
    assert four.x0 <= 400 and four.x1 >= 640 and four.height >= 350
    assert len([b for b in segment(img, v1_crops=True).boxes if b.height > 60]) == 2


def test_huge_digit_among_small_ones_is_read(recogniser: Recogniser) -> None:
    # each of these was misread or lost while its flat strokes were taken for underlines
    for big, seed in (("2", 1), ("3", 0), ("4", 1), ("5", 3), ("7", 0), ("7", 2)):
        assert recogniser.recognise(_glyph_page(big, seed)).text == "3816\n" + big, (big, seed)


def test_huge_nine_drawn_as_loop_and_stem_apart_stays_one_box() -> None:
    img = np.full((700, 900, 3), 255, np.uint8)
    for i, d in enumerate("1234"):
        cv2.putText(img, d, (250 + 45 * i, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 3)
    # the loop is no digit of the page's size: over five of its digits high
    cv2.ellipse(img, (470, 320), (60, 70), 0, 0, 360, (0, 0, 0), 12)
    cv2.line(img, (545, 260), (545, 640), (0, 0, 0), 12)
    nine = [b for b in segment(img).boxes if b.y0 > 200]
    assert nine == [Box(404, 244, 552, 644)]


def test_small_zero_with_a_sliver_in_its_loop_is_no_ring() -> None:
    img = np.full((120, 400, 3), 255, np.uint8)
    for i, d in enumerate("1234"):
        cv2.putText(img, d, (40 + 30 * i, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    cv2.ellipse(img, (200, 60), (8, 11), 0, 0, 360, (0, 0, 0), 2)
    cv2.line(img, (200, 55), (200, 65), (0, 0, 0), 1)  # grain: one pixel wide, 11 high
    zero = [b for b in segment(img).boxes if b.x0 > 170]
    assert zero == [b for b in segment(img, v1_crops=True).boxes if b.x0 > 170]
    assert len(zero) == 1 and zero[0].height >= 20


def test_underline_crossed_by_a_tall_stroke_is_still_removed() -> None:
    img = _number_page(w=1400)  # wide enough that the underline is no ruling
    for i, d in enumerate("2718"):  # a number apart, for the page's typical digit height
        cv2.putText(img, d, (DIGIT_X0 + STEP * i, 100), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 5)
    cv2.line(img, (190, 272), (560, 272), (0, 0, 0), 3)  # touching the number's feet
    ys = np.arange(150, 480)
    xs = 540 + 12 * np.sin(ys / 25.0)  # a wavy stroke eight digits tall crossing it
    cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, (0, 0, 0), 3)
    assert len(_digit_boxes(segment(img).boxes)) == len(DIGITS)


def test_noisy_page_gives_no_flood_of_boxes() -> None:
    # heavy grain joins into blobs far larger than a digit; they are no lines, so they keep
    # taking the grain inside their boxes as before, not thousands of boxes (and seconds)
    page = list(generate_pages(3, 777, PageConfig(width=1600, height=1200)))[2]
    noise = np.random.default_rng(0).normal(0, 45, page.image.shape[:2])[..., None]
    img = np.clip(page.image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    now, before = len(segment(img).boxes), len(segment(img, v1_crops=True).boxes)
    assert now <= before + 10


def test_fold_passing_under_a_number_takes_none_of_its_digits() -> None:
    img = _number_page()
    # a long faint line falling away to the right from just under the digits' feet, touching
    # none: its box holds none of them, but it lies within the merge's reach of all of them
    cv2.line(img, (150, 282), (699, 470), (90, 90, 90), 2)
    assert len(_digit_boxes(segment(img).boxes)) == len(DIGITS)
    # as the shipped weights' crops were cut, every digit joined the line: one box, no digit's
    assert _digit_boxes(segment(img, v1_crops=True).boxes) == []
