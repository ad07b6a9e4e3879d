"""Printed rulings, squared paper, underlines and strike-throughs: found and removed."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.segment.boxes import (
    DASH_MAX_HEIGHT,
    HUGE_PART,
    MIN_HEIGHT,
    PAGE_SIZED,
    raw_boxes,
    typical_height,
)
from digitpad.segment.runs import find_runs, has_lines, open_if_any

# a piece of ink with no more than this many pixels off the removed rulings is ruling debris
# (see drop_line_remnants); a digit's strokes leave the rulings for far more
REMNANT_MAX_OFF_LINE = 20
TABLE_BRIDGE = 7  # a stroke crossing a table's line is bridged over this many pixels at most
# Ink on a ruling stands out from it when twice as dark and at least 70 levels darker. A
# pencil page's grey rulings stretch to half the ink map's scale or more, and twice that is
# past its end: there ink at least STANDS_OUT_U8 dark does, on rulings no darker than
# PALE_RULING_U8 (the pieces of a black table's lines, darker, are no strokes; see
# dark_strokes_on)
STANDS_OUT_U8 = 215
PALE_RULING_U8 = 167
# On such rulings (pale black, blue or red ones too, and a table's grey lines) a stroke's
# pixels STANDS_ABOVE over the rulings' level stand out too, in a piece reaching ALONG_MIN px
# along the line or holding a pixel that stands out as above: pencil over a grey line is
# darker than either, by less than twice; a crossing of two rulings is a dark spot only about
# as long as a ruling is thick.
STANDS_ABOVE = 50.0
ALONG_MIN = 6
# Rulings at least PATH_LEVEL (grey like pencil) are only the ink on their own path (see
# runs.Runs.mask): the whole run took pencil strokes a few pixels beside it (a 7's stem). Not
# paler ones: every ruling on its own path lost more blue-ink pages than it won (HISTORY).
PATH_LEVEL = 95.0
# A page whose rulings are fainter still, below the low threshold for most of their length, is
# looked at again in ink over FAINT_U8 (``faint``); only a page this big on both sides
FAINT_U8 = 16
FAINT_MIN_SIDE = 400


def remove_lines(
    mask: np.ndarray,
    detect: np.ndarray | None = None,
    ink: np.ndarray | None = None,
    *,
    tables: bool = False,
    upright: bool = True,
    v1: bool = False,
    faint: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Remove long thin horizontal/vertical lines from a binary ink mask.

    Lines are looked for in ``detect`` (default ``mask``, a low threshold, because faint printed
    rulings break up at higher levels); short gaps are bridged along the line. A line must run
    across a good part of the page, so a tall "1" or a long "7" bar survives. Strokes the line
    crossed are joined again. With ``ink`` (uint8), pixels much darker than the line's typical
    ink stay: a digit stroke drawn along a faint printed line. Returns the cleaned mask and the
    mask of removed line pixels (None when there were none). With ``tables`` (the page holds
    a table), lines are looked for in full, without the cheap look first (see
    :func:`~digitpad.segment.runs.has_lines`), upright lines without the lines across found
    first, a line takes only the ink on its own path (see
    :meth:`~digitpad.segment.runs.Runs.mask`), and strokes are bridged across a line over
    ``TABLE_BRIDGE`` pixels only, not 13. Without ``upright``, only lines across are looked
    for. ``v1``: lines are looked for and strokes kept on them as when the shipped v1 weights'
    training crops were cut (see :func:`~digitpad.segment.runs.has_lines` and
    :func:`dark_strokes_on`); without it (nor ``tables``), rulings at least ``PATH_LEVEL`` in
    ``ink`` take only the ink on their paths.
    With ``faint`` (a level under the mask's) and ``ink``, a page at least ``FAINT_MIN_SIDE``
    on both sides where no line was found is looked at again in ``ink`` over ``faint``: a pale
    grid under the mask's level for most of its length leaves only its darker stretches and
    crossings in the mask, too short to find, and they join the digits they touch. What is
    removed is still only the mask's ink on the lines found.
    """
    h, w = mask.shape
    if min(h, w) < 40:
        return mask, None
    m8 = (mask if detect is None else detect).astype(np.uint8)
    removed = np.zeros(mask.shape, bool)
    cleaned = mask.copy()
    for horizontal in (True, False) if upright else (True,):
        look = m8
        if not horizontal and tables:
            # closing the gaps between a table's lines across and the digits in its cells
            # made each column of digits one upright run, taken for a line
            look = m8 & ~removed.view(np.uint8)
        # a table's lines joined to the digits on them are too thick for the cheap look
        if not tables and not has_lines(look, horizontal, v1=v1):
            continue
        runs = find_runs(look, horizontal, 1.0, chains=not v1)
        if runs is None:
            continue
        # widen a little: anti-aliased line edges are ink too
        lines = _widened(runs.mask(paths=tables), mask)
        if ink is not None and lines.any():
            level = ruling_level(lines, ink, horizontal)
            if level >= PATH_LEVEL and not (v1 or tables):
                lines = _widened(runs.mask(paths=True), mask)
                level = ruling_level(lines, ink, horizontal) if lines.any() else level
            lines &= ~dark_strokes_on(lines, ink, horizontal, pale=not v1, level=level)
        cleaned &= ~lines
        # strokes that crossed the line were cut: bridge across it, along the crossing direction.
        # A table's line parts cells: the digits of the rows above and below it, ends 10 px
        # apart, were bridged through it, and the line's piece between them stayed as ink
        n = TABLE_BRIDGE if tables else 13
        across = np.ones((n, 1) if horizontal else (1, n), np.uint8)
        joined = cv2.morphologyEx(cleaned.astype(np.uint8), cv2.MORPH_CLOSE, across)
        cleaned |= joined.astype(bool) & lines & mask
        removed |= lines
    if not removed.any():
        # a strip under FAINT_MIN_SIDE (a row, a crop) is not looked at again: its rulings, if
        # any, are short
        if faint is not None and ink is not None and not tables and min(h, w) >= FAINT_MIN_SIDE:
            return remove_lines(mask, ink > faint, ink, upright=upright, v1=v1)
        return mask, None
    return cleaned, removed


def may_hold_faint_lines(ink: np.ndarray) -> bool:
    """Whether :func:`remove_lines` with ``faint`` could find rulings in the uint8 ink map
    ``ink`` (a page that found none without it): the page is at least ``FAINT_MIN_SIDE`` both
    ways, and the cheap look at half size (see :func:`~digitpad.segment.runs.has_lines`) finds
    a line in its ink over ``FAINT_U8`` in either direction. A page it says no to gains
    nothing from a look with ``faint``."""
    if min(ink.shape[:2]) < FAINT_MIN_SIDE:
        return False
    fainter = (ink > FAINT_U8).view(np.uint8)
    return has_lines(fainter, True) or has_lines(fainter, False)


def drop_line_remnants(mask: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``mask`` without the pieces that lie on or right beside removed rulings, but for at most
    ``REMNANT_MAX_OFF_LINE`` pixels.

    Where two rulings cross, neither pass sees a thin line (the other line runs across it), and
    bridging the strokes cut by one line restores the other line's ink at the crossing: a
    small cross or stub of ruling ink can survive there, a few of its pixels off the lines
    (a darker spot of the grid), and a stroke-merging rule can then join it to the digit next
    to it. Ink of a digit reaches well off the rulings: a stroke crossing a line goes on at
    both sides, and a stroke drawn along a line was kept as darker than the line, not removed
    around it. Only ruling pixels that really left the mask count as ruling: on squared paper
    the line finder also marks bits of a thin digit's strokes (a row of digits bridged to the
    grid looks like a run), and those stay in the mask as ink; counting them made a small thin
    digit beside the grid "ruling debris" (analysis pages 9.2-9.5 M: mean exact +0.65 %).
    """
    near = cv2.dilate((removed & ~mask).view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return mask
    off_line = np.bincount(labels[mask & ~near], minlength=n) > REMNANT_MAX_OFF_LINE
    off_line[0] = True
    return mask & off_line[labels]


def _widened(lines: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bool: the uint8 ``lines`` grown by a pixel every way, within ``mask``."""
    return cv2.dilate(lines, np.ones((3, 3), np.uint8)).astype(bool) & mask


def ruling_level(lines: np.ndarray, ink: np.ndarray, horizontal: bool) -> float:
    """The rulings' level in the uint8 ink map ``ink``: the median over the pixels of
    ``lines`` (bool, not empty) of the darkest ink across the line within 2 px. A blurred
    ruling has faint flanks around a dark middle, and that middle is no stroke drawn along it.
    """
    across = np.ones((5, 1) if horizontal else (1, 5), np.uint8)
    peak = cv2.dilate(np.where(lines, ink, 0).astype(np.uint8), across)
    return float(np.median(peak[lines]))


def dark_strokes_on(
    lines: np.ndarray,
    ink: np.ndarray,
    horizontal: bool,
    *,
    pale: bool = False,
    level: float | None = None,
) -> np.ndarray:
    """Pixels of ``lines`` clearly darker than the rulings' typical ink, in pieces no longer
    than a digit: a stroke drawn along a paler printed line, not a darker line (a margin).
    Clearly darker is twice the rulings' level and at least 70 above it. With ``pale``, on
    rulings no darker than ``PALE_RULING_U8``, ``STANDS_OUT_U8`` is dark enough too, and so
    is ``STANDS_ABOVE`` over their level in a piece reaching ``ALONG_MIN`` px along the line
    or holding a pixel dark enough by the tests before. Without ``pale`` (as when the shipped
    v1 weights' training crops were cut, and for a form's frames), nothing stands out from
    rulings whose doubled level is past 255. ``level``: the rulings' :func:`ruling_level`,
    when the caller has it already."""
    if not lines.any():
        return np.zeros_like(lines)
    if level is None:
        level = ruling_level(lines, ink, horizontal)
    need = max(2.0 * level, level + 70.0)
    low = need
    if pale and level <= PALE_RULING_U8:
        # a pencil stroke drawn along a grey ruling (the bar of a 4, the top of a 5 or a 7)
        # stood out nowhere, went with the ruling, and the digit read as another
        need = min(need, STANDS_OUT_U8)
        low = min(need, level + STANDS_ABOVE)
    if low > 255:  # dark rulings: nothing stands out
        return np.zeros_like(lines)
    dark = (lines & (ink >= low)).astype(np.uint8)
    if not dark.any():
        return dark.astype(bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8, ltype=cv2.CV_16U)
    span = stats[:, cv2.CC_STAT_WIDTH] if horizontal else stats[:, cv2.CC_STAT_HEIGHT]
    extent = lines.shape[1] if horizontal else lines.shape[0]
    short = span < max(25, 0.15 * extent)
    if low < need:
        # under ``need``, only a piece along the line is a stroke, not a crossing's dark spot
        hi = np.bincount(labels[lines & (ink >= need)], minlength=n) > 0
        short &= hi | (span >= ALONG_MIN)
    short[0] = False
    return short[labels]


def remove_underlines(
    mask: np.ndarray, raw: list[list[int]] | None = None, *, huge_digits: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Remove underlines and strike-throughs: thin horizontal runs longer than 2.5 digits.

    Too short for a ruling, they still join a whole number into one component. A run that
    long is no part of a digit of the page's size (two touching 2s share at most a 1.8-digit
    bottom bar). With ``huge_digits`` it may be part of a digit many times that size: the runs
    of a component over ``HUGE_PART`` typical digit heights tall stay (the bar of a 7 half
    the page high, among small digits, went and left a "1"). Returns the cleaned mask and the
    removed pixels (None when nothing was removed; the mask is then returned as it was).
    ``raw`` is ``raw_boxes(mask)`` when the caller has it.
    """
    boxes = raw_boxes(mask.astype(np.uint8)) if raw is None else raw
    if not boxes:
        return mask, None
    typical = typical_height(boxes)
    length = round(2.5 * typical)
    if length >= mask.shape[1] or typical < MIN_HEIGHT:
        return mask, None
    m8 = mask.astype(np.uint8)
    runs = open_if_any(m8, np.ones((1, length), np.uint8))
    if runs is None:
        return mask, None
    # thicker than a dash is a bar or a blob, not an underline; a marker underline a third of
    # a digit thick is still one
    t = max(3, round(DASH_MAX_HEIGHT * typical))
    runs &= ~cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((t, 1), np.uint8))
    if not runs.any():
        return mask, None
    under = cv2.dilate(runs, np.ones((3, 3), np.uint8)).astype(bool) & mask
    if huge_digits and any(b[3] - b[1] > HUGE_PART * typical for b in boxes):
        under &= ~_strokes_of_huge_digits(mask, under, typical)
        if not under.any():
            return mask, None
    cleaned = mask & ~under
    joined = cv2.morphologyEx(cleaned.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((13, 1), np.uint8))
    cleaned |= joined.astype(bool) & under
    return cleaned, under


def _strokes_of_huge_digits(mask: np.ndarray, under: np.ndarray, typical: float) -> np.ndarray:
    """The pieces of ``under`` that, taken out of ``mask``, touch a component over
    ``HUGE_PART`` typical heights tall and no digit of the page's size (half to twice a
    typical height; crumbs and the huge digit's other pieces do not count). The bar of a 4
    written huge among small digits touches only its own pieces; an underline touches the
    digits it runs under, even where a tall stroke crosses it."""
    rest = mask & ~under
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        rest.view(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    tall = heights > HUGE_PART * typical
    page_sized = (heights >= PAGE_SIZED[0] * typical) & (heights <= PAGE_SIZED[1] * typical)
    keep = np.zeros_like(under)
    n, pieces, box, _ = cv2.connectedComponentsWithStats(
        under.view(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    h, w = under.shape
    grow = np.ones((3, 3), np.uint8)
    for k in range(1, n):
        x, y, bw, bh = (int(v) for v in box[k, :4])
        x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(w, x + bw + 1), min(h, y + bh + 1)
        piece = pieces[y0:y1, x0:x1] == k
        near = cv2.dilate(piece.view(np.uint8), grow).view(bool) & rest[y0:y1, x0:x1]
        touched = np.unique(labels[y0:y1, x0:x1][near])
        if tall[touched].any() and not page_sized[touched].any():
            keep[y0:y1, x0:x1] |= piece
    return keep
