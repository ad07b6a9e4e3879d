"""Segmentation of tables and squared pads: a table's walls and lines, a bordered pad that is
no table, and the look for rulings at half size (split from test_segment.py)."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment import (
    LOW_U8,
    remove_lines,
    segment,
)
from digitpad.synth.pages import generate_page
from digitpad.training.drawn import draw_page


def _page(h: int = 300, w: int = 400) -> np.ndarray:
    return np.full((h, w, 3), 255, np.uint8)


def test_a_tables_walls_are_found_and_nothing_else_is() -> None:
    from benchmarks.tables import AT, CELL, COLS, ROWS, table_page

    for style in ("black", "grey"):
        seg = segment(table_page(1, style)[0])
        xs = sorted(w.centre[0] for w in seg.walls)
        assert [round((x - AT[0]) / CELL[0]) for x in xs] == list(range(COLS + 1))
        assert all(abs(x - AT[0] - round((x - AT[0]) / CELL[0]) * CELL[0]) <= 3 for x in xs)
        assert all(abs(w.height - ROWS * CELL[1]) <= 12 for w in seg.walls)  # found at 1/4
        # a wall is no digit: standing alone it read as a sure "1" as tall as the table
        assert all(b.height < 2 * CELL[1] for b in seg.boxes)
    # a photographed sheet turned 2 degrees, either way: its walls lean a pixel every 30 rows,
    # and a grey one falls across two columns here and there, each too pale for ink
    for seed in (1, 2):
        assert len(segment(table_page(seed, "grey_tilted")[0]).walls) == COLS + 1
    page = table_page(1, "black")[0]
    assert segment(table_page(1, "none")[0]).walls == []
    assert segment(page, v1_crops=True).walls == []  # training cuts its crops as before


def test_no_table_walls_on_squared_paper_a_margin_or_a_fold() -> None:
    # upright lines that run on to the page's edges, or that the ruling finder took, part no
    # fields: handwriting crosses them
    digits = draw_page(21, width=1000, height=700, n_digits=14).image
    squared, ruled = np.full_like(digits, 255), np.full_like(digits, 255)
    for y in range(20, 700, 40):
        cv2.line(squared, (0, y), (999, y), (150, 175, 215), 1)
        cv2.line(ruled, (0, y), (999, y), (150, 175, 215), 1)
    for x in range(25, 1000, 40):
        cv2.line(squared, (x, 0), (x, 699), (150, 175, 215), 1)
    cv2.line(ruled, (120, 0), (120, 699), (220, 120, 120), 2)  # a notebook's margin
    cv2.line(ruled, (640, 0), (655, 699), (90, 90, 90), 2)  # a fold
    for paper in (squared, ruled):
        assert segment(np.minimum(digits, paper)).walls == []
    # a strip of a faint squared page holding no digit: its typical "digit" is a speck 7 px
    # high, and squares of 22 px passed for a table's cells
    strip = np.ascontiguousarray(generate_page(9_600_054).image[200:390])
    assert segment(strip).walls == []


def test_a_tables_walls_are_found_where_the_ruling_finder_takes_them() -> None:
    from benchmarks.tables import AT, CELL, COLS, ROWS, table_page

    # the table cut from its page fills over half the page's height: its walls, seven of
    # them, are long enough for rulings and the ruling finder takes them. Rulings running on
    # to the page's top or bottom are a grid, a margin or a fold; these stop short of them
    page = table_page(1, "black")[0][AT[1] - 60 : AT[1] + ROWS * CELL[1] + 60, AT[0] - 40 :]
    assert len(segment(page).walls) == COLS + 1


def test_a_forms_row_of_tall_boxes_is_no_table() -> None:
    # cells 100 px tall round 28 px digits: walls tall enough for a table's, but one row of
    # cells is a form's frame, and its digits alone in neighbouring cells are one number
    from digitpad.training.data import synth_glyph

    rng = np.random.default_rng(5)
    ink = np.zeros((600, 1000), np.float32)
    for k in range(8):
        g = synth_glyph(str(rng.integers(10)), 28, rng)
        gh, gw = g.shape
        x, y = 100 + k * 70 + (70 - gw) // 2, 200 + (100 - gh) // 2
        ink[y : y + gh, x : x + gw] = np.maximum(ink[y : y + gh, x : x + gw], g)
    page = _page(600, 1000)
    cv2.rectangle(page, (100, 200), (660, 300), (0, 0, 0), 2)
    for k in range(1, 8):
        cv2.line(page, (100 + k * 70, 200), (100 + k * 70, 300), (0, 0, 0), 2)
    a = ink[..., None]
    seg = segment((page * (1 - a) + np.array([20, 20, 30]) * a).astype(np.uint8))
    assert seg.walls == [] and [len(f) for f in seg.frames] == [8]


def test_a_tables_line_takes_its_own_ink_not_digit_tops_just_below_it() -> None:
    # a line across a photographed table, turned 2 degrees, with the tops of a row of digits
    # 4 px under it, between two walls. Its run, thickened across for the tilt's steps,
    # reached the tops, and the line took them away with it ("50" read as nothing)
    mask = np.zeros((400, 800), np.uint8)
    cv2.line(mask, (0, 100), (799, 128), 1, 1)
    cv2.line(mask, (0, 300), (799, 328), 1, 1)
    for x in (100, 300, 500, 700):
        cv2.line(mask, (x, 90 + x * 28 // 800), (x, 310 + x * 28 // 800), 1, 1)
    tops = np.zeros_like(mask)
    cv2.line(tops, (320, 100 + 320 * 28 // 800 + 5), (480, 100 + 480 * 28 // 800 + 5), 1, 2)
    page = (mask | tops).astype(bool)
    for tables in (False, True):
        cleaned, removed = remove_lines(page, tables=tables)
        assert removed is not None
        on_tops = cleaned[tops.astype(bool)].mean()
        # on a page holding no table the ruling finder is left as the pages were measured with
        assert on_tops > 0.95 if tables else on_tops < 0.05
        # the lines and the walls go either way
        assert cleaned[mask.astype(bool)].mean() < 0.02


def test_a_table_cut_out_close_round_its_border_keeps_its_walls() -> None:
    from benchmarks.tables import COLS, SEED, table_page

    # the page cut 5 px round the table, as a user crops a photographed score sheet: its walls
    # run to within a line's width of the page's top and bottom, as a squared page's grid
    # does, but they end at the table's border, and the grid's run on past its last line
    for style in ("black_cut", "grey_tilted_cut"):
        assert len(segment(table_page(SEED + 1, style)[0]).walls) == COLS + 1
    # a squared page with a line along its top edge: its upright lines still run on to the
    # bottom with no line across there
    digits = draw_page(21, width=1000, height=700, n_digits=14).image
    squared = np.full_like(digits, 255)
    for y in (2, *range(42, 700, 40)):
        cv2.line(squared, (0, y), (999, y), (150, 175, 215), 1)
    for x in range(25, 1000, 40):
        cv2.line(squared, (x, 0), (x, 699), (150, 175, 215), 1)
    assert segment(np.minimum(digits, squared)).walls == []


def test_a_tables_line_parts_the_digits_of_the_rows_above_and_below_it() -> None:
    # a digit's bottom 5 px above a table's line and the next row's digit's top 5 px under it:
    # bridged through the line as one stroke crossing it, the line's piece between them stayed
    # and stuck to a digit ("34" read "54"). A stroke that does cross the line stays whole
    mask = np.zeros((300, 800), np.uint8)
    cv2.line(mask, (0, 150), (799, 150), 1, 2)
    cv2.line(mask, (220, 100), (220, 144), 1, 2)  # the row above's digit, ending over the line
    cv2.line(mask, (220, 156), (220, 200), 1, 2)  # the row below's, starting under it
    cv2.line(mask, (500, 120), (500, 180), 1, 2)  # a stroke crossing the line
    for tables in (False, True):
        cleaned, removed = remove_lines(mask.astype(bool), tables=tables)
        assert removed is not None and cleaned[149:153, 495:506].any(axis=1).all()
        assert cleaned[148:154, 210:230].any() == (not tables)


def _graph_pad(margin: int, square: int = 64) -> tuple[np.ndarray, list[str]]:
    """A squared pad whose grid ends at a printed border, cut ``margin`` px round it, with a
    number of two or three digits (6 px apart) written across every other upright line, that
    line through its first digit, and the reading of its rows."""
    from digitpad.training.data import synth_glyph

    rng = np.random.default_rng(1)
    rows, cols = 6, 12
    h, w = 2 * margin + square * rows + 1, 2 * margin + square * cols + 1
    page = np.full((h, w, 3), 255, np.uint8)
    for k in range(rows + 1):
        y = margin + k * square
        cv2.line(page, (margin, y), (margin + cols * square, y), (150, 175, 215), 1, cv2.LINE_AA)
    for k in range(cols + 1):
        x = margin + k * square
        cv2.line(page, (x, margin), (x, margin + rows * square), (150, 175, 215), 1, cv2.LINE_AA)
    ink, want = np.zeros((h, w), np.float32), []
    for r in (1, 3, 5):
        numbers = []
        for c in range(1, cols - 1, 2):
            labels = [str(d) for d in rng.integers(10, size=int(rng.integers(2, 4)))]
            glyphs = [synth_glyph(d, int(rng.integers(30, 38)), rng) for d in labels]
            x = margin + c * square - glyphs[0].shape[1] // 2
            for g in glyphs:
                y = margin + r * square + (square - g.shape[0]) // 2
                ink[y : y + g.shape[0], x : x + g.shape[1]] = g
                x += g.shape[1] + 6
            numbers.append("".join(labels))
        want.append(" ".join(numbers))
    a = ink[..., None]
    return (page * (1 - a) + np.array([20, 30, 120]) * a).astype(np.uint8), want


def test_a_bordered_squared_pad_cut_close_is_no_table() -> None:
    # its grid has a table's ends and walls, squares 1.5 digits wide; but its numbers run
    # across the lines, where a table's stay in their cells. Taken for a table, its walls left
    # the ink and cut every digit written across one in two. Cut 9 px round or more, the page
    # is 400 px high, and the ruling finder's look at half size missed its pale lines
    from digitpad.recognise_service import recognise

    for margin in (4, 6, 9, 40):
        page, want = _graph_pad(margin)
        assert segment(page).walls == []
        assert recognise(page).text.split("\n") == want


def test_the_look_at_half_size_sees_lines_one_pixel_thick() -> None:
    from digitpad.segment.runs import has_lines

    # a page 400 px high or more is looked at halved first; from an odd side the halving is
    # no exact 2x2 mean, and a 0/1 mask's line one pixel thick came out at half a level,
    # rounded to nothing
    for row in (100, 101):
        m8 = np.zeros((501, 801), np.uint8)
        m8[row, 20:780] = 1
        assert has_lines(m8, True) and not has_lines(m8, False)
        assert has_lines(np.ascontiguousarray(m8.T), False)
        # training cuts its crops as the shipped model's were cut: the look as it was
        assert not has_lines(m8, True, v1=True)
    # a squared pad with such lines, 56 px squares (too small for a table's cells), cut 40 px
    # round its grid: the grid stayed in the ink, joined to the numbers written across it
    page = _graph_pad(40, square=56)[0]
    ink = segment(page).ink_u8
    for y in range(40, 40 + 6 * 56 + 1, 56):
        assert (ink[y, 40 : 40 + 12 * 56] > LOW_U8).mean() < 0.2
