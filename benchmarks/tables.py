"""Tables: a score sheet's numbers, one to three digits to a cell of a printed table, in the
middle of a 1700x1200 page.

Four rows of six cells 90x60 px; in each cell one to three of the generator's digits 30-41 px
high, left-aligned, as many as fit. The table is drawn with black 2 px lines (or 3 px), grey
1 px lines, either on a page turned 2° (either way: a photographed sheet), or not at all (the
reference: the same digits with nothing between the cells); the "_cut" styles' pages are cut
``CUT`` px round the table, as a user crops a photographed sheet. A row is read right when
its reading is the cells' numbers in order, each cell apart (one space between them), and its
digits right when the reading, spaces left out, is its digits. Without lines
the cells' numbers are a few pixels apart, as close as a number's own digits, and run together:
the walls are what parts them. Seeded, deterministic, no timing.

Run: ``.venv/bin/python -m benchmarks.tables [--model FILE.onnx] [--tables N]``; writes
benchmarks/results/tables.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.cli import model_count_cli

RESULTS = Path(__file__).resolve().parent / "results" / "tables.json"
SEED = 13_000_000
PAGE = (1700, 1200)  # width, height
AT = (300, 400)  # the table's top left corner on the page
ROWS, COLS = 4, 6
CELL = (90, 60)  # width, height
PAD = 8  # the digits stay this far from a cell's walls
# style: line colour, thickness and the page's tilt in degrees, every other table the other
# way (None: no lines)
STYLES: dict[str, tuple[tuple[int, int, int], int, float] | None] = {
    "black": ((0, 0, 0), 2, 0.0),
    "grey": ((150, 150, 150), 1, 0.0),
    "black_tilted": ((0, 0, 0), 2, 2.0),
    "grey_tilted": ((150, 150, 150), 1, 2.0),
    "black_3px": ((0, 0, 0), 3, 0.0),
    "black_cut": ((0, 0, 0), 2, 0.0),
    "grey_tilted_cut": ((150, 150, 150), 1, 2.0),
    "none": None,
}
CUT = 5  # a "_cut" style's page is cut this far round the table, as a user crops a photo


def table_page(seed: int, style: str) -> tuple[np.ndarray, list[str]]:
    """A page with a seeded table in ``style`` (one of :data:`STYLES`), and the reading of each
    of its rows (its cells' numbers, one space apart). The digits are the same for every
    style."""
    from digitpad.training.data import synth_glyph

    rng = np.random.default_rng(seed)
    ink = np.zeros((PAGE[1], PAGE[0]), np.float32)
    (cw, ch), (x0, y0) = CELL, AT
    rows = []
    for r in range(ROWS):
        cells = []
        for c in range(COLS):
            x, number = x0 + c * cw + PAD, ""
            for _ in range(int(rng.integers(1, 4))):
                label = str(rng.integers(10))
                glyph = synth_glyph(label, int(rng.integers(30, 42)), rng)
                gh, gw = glyph.shape
                if x + gw > x0 + (c + 1) * cw - PAD:
                    break
                y = y0 + r * ch + (ch - gh) // 2
                ink[y : y + gh, x : x + gw] = np.maximum(ink[y : y + gh, x : x + gw], glyph)
                number += label
                x += gw + 6
            if number:
                cells.append(number)
        rows.append(" ".join(cells))
    page = np.full((PAGE[1], PAGE[0], 3), 255, np.uint8)
    lines = STYLES[style]
    tilt = 0.0
    if lines is not None:
        colour, thick, tilt = lines
        for r in range(ROWS + 1):
            cv2.line(page, (x0, y0 + r * ch), (x0 + COLS * cw, y0 + r * ch), colour, thick)
        for c in range(COLS + 1):
            cv2.line(page, (x0 + c * cw, y0), (x0 + c * cw, y0 + ROWS * ch), colour, thick)
    a = ink[..., None]
    page = (page * (1 - a) + np.array([20, 20, 30]) * a).astype(np.uint8)
    if tilt:
        turn = cv2.getRotationMatrix2D((PAGE[0] / 2, PAGE[1] / 2), tilt * (-1) ** seed, 1.0)
        page = cv2.warpAffine(page, turn, PAGE, borderValue=(255, 255, 255))
    if style.endswith("_cut"):
        ys, xs = np.nonzero(page.min(axis=2) < 230)
        page = page[ys.min() - CUT : ys.max() + 1 + CUT, xs.min() - CUT : xs.max() + 1 + CUT]
    return np.ascontiguousarray(page), rows


def tables(model: Path, n_tables: int) -> dict[str, object]:
    """Rows read right, and rows whose digits are right, per style, of ``n_tables`` seeded
    tables of ``ROWS`` rows each.

    Raises:
        ModelError: the model cannot be loaded.
    """
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser

    rec = Recogniser(Classifier.load(model))
    right: dict[str, int] = {}
    digits_right: dict[str, int] = {}
    for style in STYLES:
        pairs = []
        for i in range(n_tables):
            page, want = table_page(SEED + i, style)
            got = rec.recognise(page).text.split("\n")
            pairs += zip(got + [""] * (len(want) - len(got)), want, strict=False)
        right[style] = sum(g == w for g, w in pairs)
        digits_right[style] = sum(g.replace(" ", "") == w.replace(" ", "") for g, w in pairs)
    return {
        "model_file": str(model),
        "rows": n_tables * ROWS,
        "right": right,
        "digits_right": digits_right,
    }


def main(argv: list[str] | None = None) -> int:
    return model_count_cli("tables", tables, ("tables", 30), RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
