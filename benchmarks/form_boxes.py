"""Form boxes: a number written one digit per cell of a form's printed row of boxes (a date, a
postcode), or inside one box round it, in the middle of a 1700x1200 page.

Eight of the generator's digits per row, in rows of cells 50-62 px wide and 56-60 px high, for
these cases: digits inside their cells and touching the lines, under a pale grey frame of 1 px
lines or a black one of 2 px; digits taller than their cells, crossing both lines; and two of
them on a page turned 3° (either way), as a photographed form is. Each row
is read with no frame (the reference), a row of cells and a box round the whole row; it is
right when the reading, spaces left out, is the eight digits, and read as one number when it
is the eight digits exactly (a frame's digits are one number). Seeded, deterministic, no
timing.

Run: ``.venv/bin/python -m benchmarks.form_boxes [--model FILE.onnx] [--rows N]``; writes
benchmarks/results/form_boxes.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.cli import model_count_cli

RESULTS = Path(__file__).resolve().parent / "results" / "form_boxes.json"
SEED = 12_000_000
PAGE = (1700, 1200)  # width, height
AT = (300, 500)  # where the row's strip is placed on the page
GREY, BLACK = (90, 90, 90), (0, 0, 0)
# case: (cell width, cell height), digit heights, frame colour, line thickness, tilt (degrees,
# every other row tilted the other way: a photographed form)
CASES = {
    "inside_grey": ((50, 60), (36, 48), GREY, 1, 0.0),
    "inside_black": ((50, 60), (36, 48), BLACK, 2, 0.0),
    "touching_grey": ((56, 60), (48, 60), GREY, 1, 0.0),
    "touching_black": ((56, 60), (48, 60), BLACK, 2, 0.0),
    "crossing_grey": ((62, 56), (54, 66), GREY, 1, 0.0),
    "inside_black_tilted": ((50, 60), (36, 48), BLACK, 2, 3.0),
    "touching_grey_tilted": ((56, 60), (48, 60), GREY, 1, 3.0),
}
STYLES = ("none", "cells", "box")
N_DIGITS = 8


def form_row(seed: int, case: str, style: str) -> tuple[np.ndarray, str]:
    """A page with a seeded row of ``N_DIGITS`` digits of ``case`` in frame ``style`` (one of
    :data:`STYLES`), and the digits it holds. The digits are the same for every style."""
    from digitpad.training.data import synth_glyph

    (cell_w, cell_h), heights, colour, thick, tilt = CASES[case]
    rng = np.random.default_rng(seed)
    h, w = 200, 40 + N_DIGITS * cell_w + 60
    ink = np.zeros((h, w), np.float32)
    x0, y0 = 40, 60
    labels = []
    for k in range(N_DIGITS):
        label = str(rng.integers(10))
        labels.append(label)
        g = synth_glyph(label, int(rng.integers(*heights)), rng)
        gh, gw = g.shape
        cx = max(0, x0 + k * cell_w + (cell_w - gw) // 2 + int(rng.integers(-3, 4)))
        cy = max(0, y0 + (cell_h - gh) // 2 + int(rng.integers(-3, 4)))
        g = g[: h - cy, : w - cx]
        gh, gw = g.shape
        ink[cy : cy + gh, cx : cx + gw] = np.maximum(ink[cy : cy + gh, cx : cx + gw], g)
    strip = np.full((h, w, 3), 255, np.uint8)
    right = x0 + N_DIGITS * cell_w
    if style != "none":
        cv2.rectangle(strip, (x0, y0), (right, y0 + cell_h), colour, thick)
    if style == "cells":
        for k in range(1, N_DIGITS):
            x = x0 + k * cell_w
            cv2.line(strip, (x, y0), (x, y0 + cell_h), colour, thick)
    a = ink[..., None]
    strip = (strip * (1 - a) + np.array([20, 20, 30]) * a).astype(np.uint8)
    page = np.full((PAGE[1], PAGE[0], 3), 255, np.uint8)
    page[AT[1] : AT[1] + h, AT[0] : AT[0] + w] = strip
    if tilt:
        turn = cv2.getRotationMatrix2D((PAGE[0] / 2, PAGE[1] / 2), tilt * (-1) ** seed, 1.0)
        page = cv2.warpAffine(page, turn, PAGE, borderValue=(255, 255, 255))
    return page, "".join(labels)


def form_boxes(model: Path, rows: int) -> dict[str, object]:
    """Rows read right, and read as one number, per case and style, of ``rows`` seeded rows
    each.

    Raises:
        ModelError: the model cannot be loaded.
    """
    from digitpad.classifier import Classifier
    from digitpad.recognise_service import Recogniser

    rec = Recogniser(Classifier.load(model))
    right: dict[str, dict[str, int]] = {}
    one_number: dict[str, dict[str, int]] = {}
    for case in CASES:
        right[case], one_number[case] = {}, {}
        for style in STYLES:
            texts = []
            for i in range(rows):
                page, want = form_row(SEED + i, case, style)
                texts.append((rec.recognise(page).text, want))
            right[case][style] = sum(t.replace(" ", "") == w for t, w in texts)
            one_number[case][style] = sum(t == w for t, w in texts)
    return {"model_file": str(model), "rows": rows, "right": right, "one_number": one_number}


def main(argv: list[str] | None = None) -> int:
    return model_count_cli("form_boxes", form_boxes, ("rows", 30), RESULTS, argv)


if __name__ == "__main__":
    sys.exit(main())
