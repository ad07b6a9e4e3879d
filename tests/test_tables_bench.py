"""The tables benchmark reads its tables through the recogniser and writes its counts."""

from __future__ import annotations

import json

from benchmarks.tables import ROWS, SEED, STYLES, main, table_page


def test_one_table_per_style_is_read_and_counted(tmp_path) -> None:
    out = tmp_path / "tables.json"
    assert main(["--tables", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["rows"] == ROWS
    for key in ("right", "digits_right"):
        assert set(result[key]) == set(STYLES)
    for style in STYLES:
        assert result["right"][style] <= result["digits_right"][style] <= ROWS
    # the walls part the cells' numbers: every row whose digits are right reads right; with
    # no lines the numbers, as close as a number's own digits, run together
    for style in ("black", "grey"):
        assert result["right"][style] == result["digits_right"][style] >= ROWS - 1
    assert result["right"]["none"] < result["digits_right"]["none"]


def test_every_row_of_a_black_table_is_read() -> None:
    # its walls stood alone as sure "1"s as tall as the table: the digits of its upper rows
    # looked like marks hanging from the top of a row that tall and were dropped
    from digitpad.recognise_service import recognise

    page, want = table_page(SEED + 3, "black")
    assert recognise(page).text.split("\n") == want


def test_the_same_digits_whatever_the_style() -> None:
    pages = [table_page(3, style) for style in STYLES]
    assert len({tuple(rows) for _, rows in pages}) == 1
    assert all(" " in row for row in pages[0][1])  # every row has cells apart
    assert not (pages[0][0] == pages[2][0]).all()  # the lines are drawn


def test_a_table_over_half_the_pages_height_keeps_its_digits(monkeypatch) -> None:
    # 12 rows of 60 px on a 1200 px page: the ruling finder took its walls with its lines, and
    # its upright pass, the digits bridged to the lines above and below them, took columns of
    # digits for lines (0 of 12 rows read right)
    import benchmarks.tables as tables
    from digitpad.recognise_service import recognise

    monkeypatch.setattr(tables, "ROWS", 12)
    monkeypatch.setattr(tables, "AT", (300, 100))
    page, want = tables.table_page(SEED, "grey")
    got = recognise(page).text.split("\n")
    assert sum(g == w for g, w in zip(got, want, strict=False)) >= 11


def test_digits_just_under_a_tilted_tables_line_are_read() -> None:
    # a photographed sheet turned 2 degrees: the tops of "50" and "9" lay a few pixels under
    # the line across, and the line took them with it; "50" and "92" were lost
    from digitpad.recognise_service import recognise

    page, want = table_page(SEED + 2, "black_tilted")
    assert want[2] == "31 6 50 92 0 22"
    assert recognise(page).text.split("\n")[2] == want[2]


def test_a_black_tables_lines_go_where_the_cheap_look_missed_them() -> None:
    # 3 px black lines, digits joined to them: the ruling finder's look at half size found no
    # line, and the lines across stayed in the ink, stuck to the digits on them ("10" read "32")
    from digitpad.recognise_service import recognise

    page, want = table_page(SEED + 1, "black_3px")
    assert recognise(page).text.split("\n") == want


def test_a_table_whose_digits_touch_its_walls_keeps_them(monkeypatch) -> None:
    # digits written against a cell's left wall, the cell before's last digit against the same
    # wall, level: taken for numbers written across a squared pad's lines, the walls went and
    # the table was read as rulings and strokes (review: 147 of 240 cells right, not 205)
    import benchmarks.tables as tables
    from digitpad.segment import segment

    monkeypatch.setattr(tables, "PAD", 0)
    monkeypatch.setattr(tables, "CELL", (100, 64))
    for style in ("black", "black_3px"):
        assert len(segment(tables.table_page(SEED, style)[0]).walls) == tables.COLS + 1
