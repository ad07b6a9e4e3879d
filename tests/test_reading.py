"""Reading text from found boxes: rows top to bottom, digits left to right, spaces at wide
gaps, fields at a form's cells and a table's walls."""

from __future__ import annotations

import math

import pytest

from digitpad.reading import group_rows, reading_text
from digitpad.types import Box, Digit


def test_reading_rows_and_gaps() -> None:
    def dg(x: int, y: int, label: str) -> Digit:
        return Digit(Box(x, y, x + 20, y + 30), label, 0.9)

    digits = [dg(100, 100, "3"), dg(0, 5, "1"), dg(25, 0, "2"), dg(125, 104, "4"), dg(80, 8, "9")]
    assert reading_text(digits) == "12 9\n34"
    assert group_rows([]) == []
    # digits each alone in consecutive cells of a form's frame are one number, however far
    # apart the cells put them; cells of two frames, or holding more, are fields of their own
    two = [dg(0, 5, "1"), dg(80, 8, "9"), dg(170, 5, "4")]
    cells = (Box(-5, -5, 60, 40), Box(62, -5, 125, 40), Box(127, -5, 190, 40))
    assert reading_text(two, [cells]) == "194"
    assert reading_text(two, [cells[:1], cells[1:]]) == "1 94"  # two frames side by side
    assert reading_text(digits, [(Box(-5, -5, 60, 40), Box(62, -5, 125, 40))]) == "12 9\n34"
    # a cell between them holding nothing: not consecutive
    assert reading_text(two, [(cells[0], Box(60, -5, 62, 40), *cells[1:])]) == "1 94"


@pytest.mark.parametrize("degrees", [-15, -12, -9, 9, 12, 15])
def test_a_slanted_line_is_one_row_and_the_line_below_another(degrees: int) -> None:
    # a phone photo at a slant: each digit overlaps its neighbour, not the row's mean height
    t = math.tan(math.radians(degrees))

    def line(y: int, labels: str) -> list[Digit]:
        return [
            Digit(
                Box(i * 40, round(y + i * 40 * t), i * 40 + 30, round(y + 50 + i * 40 * t)), c, 1.0
            )
            for i, c in enumerate(labels)
        ]

    assert reading_text(line(400, "31415926")) == "31415926"
    assert reading_text(line(400, "31415926") + line(480, "27182818")) == "31415926\n27182818"


def test_reading_parts_fields_at_a_tables_walls() -> None:
    def dg(x: int, label: str, y: int = 0) -> Digit:
        return Digit(Box(x, y, x + 20, y + 30), label, 0.9)

    # "12" and "9" a few pixels apart, as a table's cells put them: one number without the
    # wall between them, two fields with it
    digits = [dg(0, "1"), dg(24, "2"), dg(52, "9")]
    wall = Box(47, -10, 49, 100)
    assert reading_text(digits) == "129"
    assert reading_text(digits, walls=[wall]) == "12 9"
    # a wall that is not level with both digits parts nothing (a row below the table)
    assert reading_text(digits, walls=[Box(47, 40, 49, 100)]) == "129"
    # walls running through the middle of the page's digits are a grid the writing ignores
    grid = [wall, Box(9, -10, 11, 100), Box(33, -10, 35, 100)]
    assert reading_text(digits, walls=grid) == "129"
    # digits each alone in consecutive cells of a form's frame stay one number
    cells = (Box(-5, -5, 22, 40), Box(22, -5, 48, 40), Box(48, -5, 75, 40))
    assert reading_text(digits, [cells], [wall]) == "129"


def test_a_tall_one_does_not_pull_the_row_below_into_its_own() -> None:
    # a table's rows 30 px apart: the "1"s of row 2 reach down to row 3's digits
    boxes = [
        Box(-1, -3, 13, 21),
        Box(58, 2, 72, 27),
        Box(0, 36, 5, 69),
        Box(58, 24, 63, 57),
        Box(0, 57, 14, 81),
        Box(58, 58, 72, 84),
    ]
    assert group_rows(boxes) == [[0, 1], [2, 3], [4, 5]]
