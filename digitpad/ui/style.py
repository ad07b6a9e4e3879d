"""Colours and sizes of the app, as plain data (no tkinter), so they are easy to test and reuse."""

from __future__ import annotations

from digitpad.types import SURE_CONFIDENCE
from digitpad.ui.editor import EditBox

GREEN = "#1f9d55"  # confidence >= SURE_CONFIDENCE
AMBER = "#e5a000"  # 0.6 <= confidence < SURE_CONFIDENCE
RED = "#d93025"  # confidence < 0.6
PERSON = "#2f6fdf"  # a box the person added or relabelled: no model confidence applies
SELECTED_WIDTH = 3
BOX_WIDTH = 2
HANDLE = 7  # screen pixels: side of a resize handle
CANVAS_BG = "#8a8f98"  # around the page, so the page edge is visible
FONT = ("DejaVu Sans", 10)
FONT_BOLD = ("DejaVu Sans", 10, "bold")
FONT_BIG = ("DejaVu Sans", 28, "bold")


def confidence_colour(confidence: float) -> str:
    """Green from ``SURE_CONFIDENCE`` (0.9), amber from 0.6, red below."""
    if confidence >= SURE_CONFIDENCE:
        return GREEN
    if confidence >= 0.6:
        return AMBER
    return RED


def box_colour(box: EditBox) -> str:
    """The model's confidence colour, or blue once the person has decided the label."""
    if box.prediction is None or box.label != box.prediction.label:
        return PERSON
    return confidence_colour(box.prediction.confidence)
