"""A table's walls: the upright lines between its cells, which part the numbers in them.

A score sheet's numbers sit a few pixels apart in neighbouring cells, as close as a number's
own digits; the reading keeps them apart by the walls between them (see
:func:`digitpad.reading.reading_text`). A wall standing alone is no digit either: taken out of
the ink, it no longer reads as a sure "1" as tall as the table.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from digitpad.reading import WALL_THROUGH_SHARE
from digitpad.segment.boxes import MIN_HEIGHT, PAGE_SIZED, typical_height
from digitpad.segment.forms import FRAME_MIN_HEIGHT
from digitpad.segment.ink import LOW_U8
from digitpad.segment.runs import LINE_MAX_THICK, open_if_any
from digitpad.types import Box

WALL_TALL = 2.5  # a table's wall is at least this many typical digit heights tall
CELL_WIDE = 1.5  # ...and this many from the next wall: a cell holds a number
WALL_LEAN = 0.05  # ...and leans (its lines across too) no more than this: about 3 degrees
_LEAN_ACROSS = np.ones((1, 3), np.uint8)  # at half size
HALF_THICK = LINE_MAX_THICK // 2  # the thickest printed line at half size
BORDER_REACH = 2 * LINE_MAX_THICK  # a line across meeting an upright one runs this far on
ACROSS_GAP = 3  # a piece of ink this near a wall (work pixels) lies against it
SLIVER = 3  # a piece this narrow or less is a wall's fringe, not a digit's (work pixels)


def table_walls(
    ink: np.ndarray, raw: list[list[int]], rulings: np.ndarray | None
) -> tuple[list[Box], np.ndarray | None]:
    """The boxes of a table's walls in the uint8 ink map ``ink`` (before rulings go), and their
    pixels (None when there are none): thin upright lines at least ``WALL_TALL`` typical digit
    heights tall (no digit of the page's size is that tall), leaning up to about 3 degrees (a
    photographed page), that meet a printed line across at both ends, short of the page's
    edges, and that make up a table (see :func:`_walls_of_tables`). A notebook's margin and a
    fold run on to the edges; a squared page's grid does too, and the ruling finder takes its
    upright lines: on a page where ``rulings`` (the removed rulings' mask) holds an upright
    line that tall running on to the page's top or bottom, the pieces of it left (a faint part
    of the grid) are no walls, and none are looked for (see :func:`_ruled_to_an_edge`).
    ``raw`` are the components of the ink mask without the rulings (``[x0, y0, x1, y1,
    pixels, ...]``), for the typical digit height. Most pages pay a dilation and a shrink: no
    column holds ink all through a block of half a wall's height (see :func:`_full_blocks`)."""
    # a page of specks and fragments has a typical "digit" a few pixels high, and a faint
    # grid's squares passed for a table's cells: a digit is taken as tall as the least cell of
    # a form holds at least
    typical = max(typical_height(raw), float(FRAME_MIN_HEIGHT))
    upright = np.ones((max(MIN_HEIGHT, round(WALL_TALL * typical)), 1), np.uint8)
    h, w = ink.shape
    if h < upright.shape[0] or w < 2:
        return [], None  # no wall fits (and a side of one pixel halves to nothing)
    if rulings is not None and _ruled_to_an_edge(rulings, upright):
        return [], None
    # looked for at half size, a quarter of the work; at a quarter of the ink level there: a
    # thin pale line that leans falls across two columns (and rows) here and there, each under
    # the ink level, and a 2x2 block's mean keeps a quarter of its darkness at least
    even = (w // 2 * 2, h // 2 * 2)
    half = cv2.resize(ink[: even[1], : even[0]], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    inky = (half > LOW_U8 // 4).view(np.uint8)
    # a leaning wall steps sideways a pixel every 20-60 rows: thickened across, its steps
    # overlap into one upright run
    lean = cv2.dilate(inky, _LEAN_ACROSS)
    length = upright.shape[0] // 2
    if not _full_blocks(lean, length // 2).any():
        return [], None
    runs = open_if_any(lean, np.ones((length, 1), np.uint8))
    if runs is None:
        return [], None
    contours, _ = cv2.findContours(runs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    reach = max(MIN_HEIGHT, round(typical)) // 2
    upright_lines: list[tuple[Box, tuple[bool, bool]]] = []
    for x, y, bw, bh in map(cv2.boundingRect, contours):
        box = Box(x, y, x + bw, y + bh)
        if bw > HALF_THICK + WALL_LEAN * bh or y == 0 or y + bh == half.shape[0]:
            continue  # a wall stops at the table's lines, short of the page's edges
        top, bottom = (_lines_across(inky, box, end, reach) for end in (y, y + bh))
        if not (any(top) and any(bottom)):
            continue
        # an inner wall of a table's end column meets lines going one way at one end only
        sides = top if top == bottom else (True, True)
        if sides == (False, True) and not _row_between(inky, box, reach):
            # a form's row of boxes, however tall its cells, is no table: its digits alone in
            # neighbouring cells are one number (forms.py)
            sides = (True, True)
        upright_lines.append((box, sides))
    walls = _walls_of_tables(upright_lines, CELL_WIDE * typical / 2)
    if not walls:
        return [], None
    pixels = np.zeros_like(inky)
    for b in walls:
        pixels[b.y0 : b.y1, b.x0 : b.x1] |= runs[b.y0 : b.y1, b.x0 : b.x1]
    # in work pixels, the band the lean added too: a leaning wall's steps and anti-aliased
    # edges go whole (the wall alone, stepping, left pieces that read as digits), and a stroke
    # touching it loses two pixels or so
    whole = np.zeros_like(ink)
    whole[: even[1], : even[0]] = cv2.resize(pixels, even, interpolation=cv2.INTER_NEAREST)
    doubled = [Box(2 * b.x0, 2 * b.y0, 2 * b.x1, 2 * b.y1) for b in walls]
    return doubled, whole.view(bool) & (ink > LOW_U8)


def written_across(
    mask: np.ndarray, pixels: np.ndarray, walls: list[Box], raw: list[list[int]]
) -> bool:
    """Whether numbers are written across a table's ``walls`` (their ``pixels``), in the ink
    mask ``mask`` without its rulings: more than ``WALL_THROUGH_SHARE`` of the digit-sized
    pieces left once the walls' pixels go are halves of digits a wall cut in two (touching it,
    ``ACROSS_GAP`` near, from either side; see :func:`_one_digit`). A bordered squared page
    has a table's ends and walls, and its numbers run across its lines; a table's numbers
    stay in their cells. The reading's own test of walls through digits comes too late: the
    walls' pixels have cut those digits in two. ``raw`` are the mask's components, for the
    typical digit height (as :func:`table_walls` takes it)."""
    typical = max(typical_height(raw), float(FRAME_MIN_HEIGHT))
    x0, y0 = min(w.x0 for w in walls), min(w.y0 for w in walls)
    x1, y1 = max(w.x1 for w in walls), max(w.y1 for w in walls)
    box = (slice(y0, y1), slice(x0, x1))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        (mask[box] & ~pixels[box]).view(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    near = cv2.dilate(pixels[box].view(np.uint8), np.ones((1, 2 * ACROSS_GAP + 1), np.uint8))
    low, high = 0.3 * typical, PAGE_SIZED[1] * typical
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    digit_sized = (low <= h) & (h <= high) & (w > SLIVER) & (w <= high)
    digit_sized[0] = False
    across = 0
    for wall in walls:
        # the pieces touching this wall, each side of its middle
        lx0, lx1 = max(0, wall.x0 - x0 - ACROSS_GAP), wall.x1 - x0 + ACROSS_GAP
        sides = labels[wall.y0 - y0 : wall.y1 - y0, lx0:lx1]
        touching = np.unique(sides[near[wall.y0 - y0 : wall.y1 - y0, lx0:lx1].view(bool)])
        pieces = [
            Box(x0 + int(x), y0 + int(y), x0 + int(x + bw), y0 + int(y + bh))
            for x, y, bw, bh, _ in stats[touching[digit_sized[touching]]]
        ]
        mid = wall.centre[0]
        left = [p for p in pieces if p.centre[0] < mid]
        right = [p for p in pieces if p.centre[0] >= mid]
        across += sum(any(_one_digit(a, b, typical) for b in right) for a in left)
        across += sum(any(_one_digit(a, b, typical) for a in left) for b in right)
    return across > WALL_THROUGH_SHARE * max(1, int(digit_sized.sum()))


def _one_digit(a: Box, b: Box, typical: float) -> bool:
    """``a`` and ``b``, either side of a wall, are the halves of one digit it cut: they share
    half the height of the shorter one, and both together are no wider than a digit is tall.
    Two digits of neighbouring cells, each written against the wall, are wider."""
    shared = min(a.y1, b.y1) - max(a.y0, b.y0)
    wide = max(a.x1, b.x1) - min(a.x0, b.x0)
    return shared >= 0.5 * min(a.height, b.height) and wide <= typical


def _ruled_to_an_edge(rulings: np.ndarray, upright: np.ndarray) -> bool:
    """Whether the rulings' mask ``rulings`` holds an upright line as tall as the kernel
    ``upright`` that runs on to the page's top or bottom (within a printed line's width) with
    no line across meeting it there: a squared page's grid, a margin or a fold. The ruling
    finder takes a table's walls too where there are enough of them, long enough for the page
    (a table on a small page, with many rows, or inside a box), and those stop short of the
    edges, or at the table's border where the page is cut round the table."""
    runs = open_if_any(rulings.view(np.uint8), upright)
    if runs is None:
        return False
    bottom = runs.shape[0] - 1 - LINE_MAX_THICK
    _, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    for x, y, w, h, _ in stats[1:]:
        for end in (y, y + h - 1):
            if not (end <= LINE_MAX_THICK or end >= bottom):
                continue
            # a line across meeting it at that end, to either side: a border (the upright run
            # holds the line it ends at)
            if not any(_lines_across(rulings, Box(x, y, x + w, y + h), end, BORDER_REACH)):
                return True
    return False


def _walls_of_tables(lines: list[tuple[Box, tuple[bool, bool]]], cell: float) -> list[Box]:
    """The walls of the tables among upright ``lines``, each with the sides its lines across
    go on to at both ends ((left, right); (True, True) where a side differs between ends): a
    table's left end has lines going right only (at both ends and between them: two rows of
    cells or more), its right end left only, both over the same rows; its walls are the lines
    between them over those rows, three or more, each at least ``cell`` from the next. A
    squared page's grid has no such ends (its lines across go on both ways), and where it
    fades to look like one, its squares are a digit wide, no wider."""
    walls: set[Box] = set()
    for left, sides in lines:
        if sides != (False, True):
            continue
        for right, other in lines:
            if other != (True, False) or right.x0 <= left.x1 or not _same_rows(left, right):
                continue
            inside = (b for b, _ in lines if left.x0 <= b.x0 and b.x1 <= right.x1)
            table = sorted((b for b in inside if _same_rows(b, left)), key=lambda b: b.x0)
            # two cells at least: the walls of one column part no numbers
            if len(table) > 2 and all(b.x0 - a.x0 >= cell for a, b in itertools.pairwise(table)):
                walls.update(table)
    return sorted(walls, key=lambda b: b.x0)


def _row_between(inky: np.ndarray, wall: Box, reach: int) -> bool:
    """A line across goes on from ``wall`` to its right between its ends (two rows of cells or
    more): ink in every column for ``reach`` pixels, in a row or the next (a lean)."""
    cells = inky[wall.y0 + reach : wall.y1 - reach, wall.x1 : wall.x1 + reach]
    if cells.shape[0] < 2 or cells.shape[1] < reach:
        return False
    return bool((cells[:-1] | cells[1:]).all(axis=1).any())


def _same_rows(a: Box, b: Box) -> bool:
    """``a`` and ``b`` run between the same two lines across, allowing for a lean."""
    slack = HALF_THICK + WALL_LEAN * abs(a.x0 - b.x0)
    return abs(a.y0 - b.y0) <= slack and abs(a.y1 - b.y1) <= slack


def _full_blocks(m8: np.ndarray, rows: int) -> np.ndarray:
    """Per column of the 0/1 mask ``m8``, whether one of its blocks of ``rows`` rows (from
    the top) is ink all through: an upright run ``2 * rows`` long holds one. Stacked digits
    fill a column's sum, not a block (a canvas's columns held enough ink for the sum)."""
    n = m8.shape[0] // max(1, rows)
    if n == 0:
        return np.zeros(m8.shape[1], bool)
    # the block means of a 0/255 mask: 255 only when full (in blocks under 510 rows; taller
    # ones may pass with a pixel missing, and the opening decides)
    blocks = m8[: n * rows] * np.uint8(255)
    means = cv2.resize(blocks, (m8.shape[1], n), interpolation=cv2.INTER_AREA)
    return (means == 255).any(axis=0)


def _lines_across(inky: np.ndarray, wall: Box, y: int, reach: int) -> tuple[bool, bool]:
    """Whether a line across meets ``wall`` at row ``y`` from its left and from its right:
    within a printed line's width of that row, ink in every column for ``reach`` pixels."""
    band = inky[max(0, y - HALF_THICK) : y + HALF_THICK + 1]
    cols = band.any(axis=0)
    left, right = cols[max(0, wall.x0 - reach) : wall.x0], cols[wall.x1 : wall.x1 + reach]
    return left.size == reach and bool(left.all()), right.size == reach and bool(right.all())
