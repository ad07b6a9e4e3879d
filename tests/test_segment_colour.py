"""Grey ink on coloured rulings: the colour test and what it does to segmentation."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.segment import segment
from digitpad.segment.colour import grey_ink_on_coloured_rulings
from digitpad.synth.pages import generate_page

BLUE_RULING = (150, 175, 215)
GREY_RULING = (170, 170, 170)
PENCIL = (88, 88, 94)
BLUE_INK = (28, 48, 150)
WHITE = (250, 250, 248)
BEIGE = (234, 220, 192)


def _sheet(
    paper: tuple[int, ...], ruling: tuple[int, ...], ink: tuple[int, ...], strength: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ruled sheet with a few solid strokes multiplied onto it: (rgb, lines, ink masks)."""
    rgb = np.empty((200, 300, 3), np.uint8)
    rgb[:] = paper
    lines = np.zeros((200, 300), bool)
    lines[::20] = True
    rgb[lines] = ruling
    strokes = np.zeros_like(lines)
    for x in range(30, 280, 50):
        strokes[40:120, x : x + 4] = True
    factor = 1.0 - strength * (1.0 - np.array(ink, np.float32) / 255.0)
    rgb[strokes] = (rgb[strokes] * factor).astype(np.uint8)
    return rgb, lines, strokes


@pytest.mark.parametrize(
    ("paper", "ruling", "ink", "expected"),
    [
        (WHITE, BLUE_RULING, PENCIL, True),
        (BEIGE, BLUE_RULING, PENCIL, True),  # the paper's own tint is not the ink's colour
        (WHITE, BLUE_RULING, BLUE_INK, False),  # coloured ink: the darkest channel is right
        (WHITE, GREY_RULING, PENCIL, False),  # grey rulings: colour cannot tell them apart
    ],
)
def test_grey_ink_on_coloured_rulings(paper, ruling, ink, expected) -> None:
    rgb, lines, strokes = _sheet(paper, ruling, ink, 0.6)
    assert grey_ink_on_coloured_rulings(rgb, lines, strokes | lines) is expected


def test_too_few_pixels_to_judge() -> None:
    rgb, lines, strokes = _sheet(WHITE, BLUE_RULING, PENCIL, 0.6)
    assert not grey_ink_on_coloured_rulings(rgb, np.zeros_like(lines), strokes)
    assert not grey_ink_on_coloured_rulings(rgb, lines, lines)


def test_pencil_on_blue_squared_paper() -> None:
    # a generated page: pencil digits on a light blue grid. In the pixels' darkest channel the
    # grid is darker than the pencil and held digits together; in the lightest it fades
    # (15 of 32 digits were found before, all 32 after)
    page = generate_page(1109295744402860812)
    assert page.meta["ruling"] == "squared" and page.meta["ink"] == "pencil"
    truth = [a.box for a in page.digits]
    found = segment(page.image).boxes
    assert sum(any(f.iou(t) >= 0.5 for f in found) for t in truth) >= len(truth) - 2
