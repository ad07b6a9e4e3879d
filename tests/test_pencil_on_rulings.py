"""Pencil on grey rulings: a stroke drawn along a ruling stays with its digit.

A pencil page's grey rulings stretch to half the ink map's scale or more, and a pencil stroke
lying on one near its end. Twice the rulings' level was past the scale's end, so no stroke
stood out: the bar of a 4, the top of a 5 or a 7 went with the ruling, and the digit read as
another.
"""

from __future__ import annotations

import numpy as np

from benchmarks.recognise_bench import match
from digitpad.segment.lines import (
    ALONG_MIN,
    PALE_RULING_U8,
    PATH_LEVEL,
    STANDS_ABOVE,
    STANDS_OUT_U8,
    dark_strokes_on,
    remove_lines,
)
from digitpad.synth.pages import generate_page, page_seed


def _ruling(level: int, stroke: int, length: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A ruling one pixel thick across a 40 x 300 ink map at ``level``, a stroke ``length`` px
    long on it at ``stroke``, and the ruling's mask (as the line finder widens it: three rows)."""
    ink = np.zeros((40, 300), np.uint8)
    ink[20] = level
    ink[19:21, 100 : 100 + length] = stroke
    lines = np.zeros(ink.shape, bool)
    lines[19:22] = True
    return ink, lines


def test_a_dark_stroke_stands_out_from_rulings_at_half_the_scale() -> None:
    ink, lines = _ruling(135, STANDS_OUT_U8)
    kept = dark_strokes_on(lines, ink, horizontal=True, pale=True)
    assert kept[19:21, 100:112].all() and not kept[:, :100].any() and not kept[:, 112:].any()
    # as the shipped weights' training crops were cut: twice 135 is past 255, nothing stands out
    assert not dark_strokes_on(lines, ink, horizontal=True).any()


def test_nothing_stands_out_from_darker_rulings_or_short_of_the_level() -> None:
    # on rulings at PALE_RULING_U8 a stroke still stands out; one level darker none does (a
    # black table's lines stretch to the scale's end, and their pieces are no strokes)
    ink, lines = _ruling(PALE_RULING_U8, STANDS_OUT_U8)
    assert dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    ink, lines = _ruling(PALE_RULING_U8 + 1, 255)
    assert not dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    ink, lines = _ruling(135, 135 + int(STANDS_ABOVE) - 1)
    assert not dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    # a faint ruling still keeps a stroke twice its level
    ink, lines = _ruling(60, 130)
    assert dark_strokes_on(lines, ink, horizontal=True, pale=True)[19:21, 100:112].all()


def test_pencil_digits_on_grey_rulings_keep_their_strokes(recogniser) -> None:
    # a generated page never tuned on: pencil on grey rulings (RGB 188 on paper 244). With
    # the strokes along its rulings removed, 18 of its 34 digits were read right
    page = generate_page(page_seed(12_500_000, 115))
    assert (page.meta["ink"], page.meta["ruling"]) == ("pencil", "ruled")
    m = match(recogniser.recognise(page.image), page)
    assert m["tp"] >= 28, m  # 31 with the strokes kept
    assert m["fp"] <= 6, m  # 3 (10 before)


def test_a_grey_stroke_along_a_pale_ruling_stands_out_but_not_a_crossing() -> None:
    # pencil over a grey ruling is darker than either, by less than twice the ruling: STANDS_ABOVE
    # over the ruling's level is enough for a piece along the line (here 185 on rulings at 135)
    level, stroke = 135, 135 + int(STANDS_ABOVE)
    ink, lines = _ruling(level, stroke, ALONG_MIN)
    kept = dark_strokes_on(lines, ink, horizontal=True, pale=True)
    assert kept[19:21, 100 : 100 + ALONG_MIN].all() and kept.sum() == 2 * ALONG_MIN
    # a spot as short as a crossing ruling is thick is a crossing, not a stroke, and a piece
    # one pixel short of ALONG_MIN is none either...
    for length in (3, ALONG_MIN - 1):
        ink, lines = _ruling(level, stroke, length)
        assert not dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    # ...unless it stands out by the older test too (and only then)
    ink, lines = _ruling(level, STANDS_OUT_U8, 3)
    assert dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    ink, lines = _ruling(level, STANDS_OUT_U8 - 1, 3)
    assert not dark_strokes_on(lines, ink, horizontal=True, pale=True).any()
    # as the shipped weights' training crops were cut, and on a form's frames: nothing
    ink, lines = _ruling(level, stroke, 20)
    assert not dark_strokes_on(lines, ink, horizontal=True).any()


def _grid_and_stem(level: int, stem: int) -> np.ndarray:
    """A 300 x 300 ink map: upright rulings one pixel thick every 40 px at ``level``, and a
    stem 2 px wide, 30 tall, at ``stem``, standing 3 px beside the ruling at x = 60."""
    ink = np.zeros((300, 300), np.uint8)
    ink[:, 20::40] = level
    ink[100:130, 63:65] = stem
    return ink


def test_grey_rulings_take_only_their_own_path_not_a_stem_beside_them() -> None:
    # the run a ruling is found by is thickened across, and reached a pencil stem standing a
    # few pixels off the line: on grey rulings (at least PATH_LEVEL) the stem stays, and the
    # rulings still go
    # (the stem is too pale to stand out as a stroke along the line: under STANDS_ABOVE over it)
    level = int(PATH_LEVEL) + 15
    ink = _grid_and_stem(level, level + int(STANDS_ABOVE) - 10)
    cleaned, removed = remove_lines(ink > 20, ink=ink)
    assert removed is not None and removed[:, 20::40].all()
    assert cleaned[100:130, 63:65].all() and not cleaned[:, 20::40].any()
    # as the shipped weights' training crops were cut, the stem went with the ruling
    cleaned, _ = remove_lines(ink > 20, ink=ink, v1=True)
    assert not cleaned[100:130, 63:65].any()
    # rulings under PATH_LEVEL (a black or blue ink's pale ones) are whole runs, as before
    level = int(PATH_LEVEL) - 15
    ink = _grid_and_stem(level, level + int(STANDS_ABOVE) - 10)
    cleaned, _ = remove_lines(ink > 20, ink=ink)
    assert not cleaned[100:130, 63:65].any()
