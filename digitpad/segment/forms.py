"""A form's printed boxes (a row of cells for a date or a postcode, a box round an amount):
their frames found and taken out of the ink mask.

A frame's walls, a cell high, are far too short for the ruling finder, and they join every
digit that touches them: a black frame's walls read as "1"s beside its digits, and a digit
touching a line was read with the frame or not at all. A frame is a component (or a ring: the
digits it holds do not touch it) with two straight lines across its width, top and bottom, and
no line between (a table is no frame), joined at both ends and between the cells by straight
upright walls that meet both lines and stop at them. A row long enough for its lines to be
rulings keeps them (:func:`frames_among_rulings`), and a row tilted a few degrees is levelled
first (:mod:`digitpad.segment.shear`). Digits are rarely frames: their strokes do not run
straight across a row of cells; a "1" standing in a cell stands off the grid of the walls, is
thicker than them, or runs past the lines, but a 1 as thin as the lines at a wall's place, or
a number whose first and last digits are 1s between an overline and an underline, is taken for
a frame's wall (README: known limits).
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from digitpad.segment.lines import dark_strokes_on, drop_line_remnants
from digitpad.segment.runs import LINE_MAX_THICK
from digitpad.segment.shear import edge_slope, line_fit, shear_offsets, sheared, unsheared
from digitpad.segment.stats import percentile_sorted
from digitpad.types import Box

FRAME_MIN_HEIGHT = 16  # a cell lower than this (work pixels) holds no digit we could read
FRAME_MIN_ASPECT = 1.4  # a frame is at least this much wider than high: a row of cells
FRAME_LINE_SPAN = 0.85  # its top and bottom lines run across this share of its width
WALL_SPAN = 0.9  # a wall's column is ink down this share of the band between the lines
WALL_OVERRUN = 3  # ...and ink no further than this past them (pixels): a "1" may go on
OVERRUN_ROWS = 4  # ...going on means ink in this many rows more, straight on
GRID_SLACK = 0.15  # an inner wall stands within this share of a cell's width of its place
# a line drifting 4 rows across the frame (1° over 230 work pixels) stays in 5 rows grown
_SKEW_ROWS = np.ones((5, 1), np.uint8)
_ACROSS_LINES = np.ones((13, 1), np.uint8)  # strokes cut by a line are bridged across it
_ALONG_LINES = np.ones((1, 13), np.uint8)  # ...and a digit's pieces along it, in its cell
_LEAN = np.ones((1, 3), np.uint8)  # a levelled frame's walls lean a pixel over a cell's height
LEAST_SHEAR = 0.01  # a slope under this (0.6°) is level enough for the grown rows
RULING_ROW = 0.15  # a row of a ruling found on a page holds this share of its width at least
TILTED_MIN_ASPECT = 2.5  # ...and a tilted frame is looked for at least this much wider than high


def remove_form_frames(
    mask: np.ndarray, candidates: list[list[int]], ink: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, list[tuple[Box, ...]]]:
    """``mask`` without the frames of form boxes among the components ``candidates``
    (``[x0, y0, x1, y1, ...]``, as :func:`~digitpad.segment.boxes.raw_and_ring_boxes` gives
    them), the frames' pixels (None when there were none: the mask is then returned as it
    was) and each frame's cells, left to right. With ``ink`` (the uint8 ink
    map), pixels of a line clearly darker than the line stay: a digit's stroke drawn on a pale
    printed line (see :func:`~digitpad.segment.lines.dark_strokes_on`). Strokes that crossed a
    frame's top or bottom line are joined again across it, and the pieces of a digit that ran
    along it within its cell (the tail of a 3) along it; what is left of a frame (its corners
    under a digit) goes as ruling debris does."""
    frames: np.ndarray | None = None
    along: np.ndarray | None = None
    cells: list[tuple[Box, ...]] = []
    for x0, y0, x1, y1, *_ in candidates:
        if y1 - y0 < FRAME_MIN_HEIGHT or x1 - x0 < FRAME_MIN_ASPECT * (y1 - y0):
            continue
        found = frame_pixels(mask[y0:y1, x0:x1], None if ink is None else ink[y0:y1, x0:x1])
        if found is None:
            continue
        if frames is None or along is None:
            frames, along = np.zeros_like(mask), np.zeros_like(mask)
        frames[y0:y1, x0:x1] |= found[0]
        along[y0:y1, x0:x1] |= found[1]
        walls = found[2]
        cells.append(
            tuple(
                Box(x0 + left[1], y0, x0 + right[0], y1)
                for left, right in itertools.pairwise(walls)
            )
        )
    if frames is None or along is None:
        return mask, None, []
    cleaned = mask & ~frames
    m8 = cleaned.view(np.uint8)
    # not across the walls: that would join a digit to the next cell's, or to a piece of wall
    across = cv2.morphologyEx(m8, cv2.MORPH_CLOSE, _ACROSS_LINES).view(bool) & along
    cleaned |= across & mask
    cleaned |= _rejoined_along(cleaned, along & mask)
    return drop_line_remnants(cleaned, frames), frames, cells


def frames_among_rulings(inky: np.ndarray, removed: np.ndarray) -> list[Box]:
    """The boxes of the form frames whose top and bottom lines the ruling finder took out
    (``removed``): a row of cells across a good part of the page, or a photo of the field alone,
    has lines long enough for rulings, and without them its walls stood alone as "1"s.

    Two horizontal lines of ``removed`` (see :func:`_horizontal_lines`) spanning the same
    columns, a cell's height or more apart, with a wall at both ends in ``inky`` (the ink mask
    before the rulings went) that stops at them, are a frame if :func:`frame_pixels` finds one
    there. Ruled paper has no walls at its lines' ends, and squared paper's go on past them."""
    lines = _horizontal_lines(removed)
    found = []
    for i, (x0, y0, x1, y1) in enumerate(lines):
        for ox0, oy0, ox1, oy1 in lines[i + 1 :]:
            gap = oy0 - y1
            if gap < FRAME_MIN_HEIGHT or gap * FRAME_MIN_ASPECT > x1 - x0:
                continue
            slack = 0.05 * (x1 - x0)
            if abs(ox0 - x0) > slack or abs(ox1 - x1) > slack:
                continue
            box = Box(min(x0, ox0), y0, max(x1, ox1), oy1)
            closed = _closed_at_ends(inky, box)
            if closed and frame_pixels(_window(inky, box, removed, lines)) is not None:
                found.append(box)
            break  # a line's partner is the next line below spanning the same columns
    return found


def _horizontal_lines(removed: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes (x0, y0, x1, y1) of the horizontal lines of ``removed``, top to bottom: runs of
    rows holding ``RULING_ROW`` of the page's width (a grid's upright lines hold far less of a
    row), no thicker than a printed line and its tilt, from the first column holding any of it
    to the last. One pass over the rows and a look at each line's band: no labelling."""
    w = removed.shape[1]
    per_row = cv2.reduce(removed.view(np.uint8), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    lines = []
    for y0, y1 in _runs(per_row >= RULING_ROW * w):
        if y1 - y0 <= LINE_MAX_THICK + _SKEW_ROWS.shape[0]:
            cols = np.flatnonzero(removed[y0:y1].any(axis=0))
            lines.append((int(cols[0]), y0, int(cols[-1]) + 1, y1))
    return lines


def _closed_at_ends(inky: np.ndarray, box: Box) -> bool:
    """A wall joins the two lines of ``box`` within a printed line's width of each end and
    stops at them (squared paper's upright lines go on past): a cheap look before the whole
    frame test."""
    band = inky[box.y0 : box.y1]
    above = inky[max(0, box.y0 - WALL_OVERRUN - OVERRUN_ROWS) : max(0, box.y0 - WALL_OVERRUN)]
    below = inky[box.y1 + WALL_OVERRUN : box.y1 + WALL_OVERRUN + OVERRUN_ROWS]
    reach = LINE_MAX_THICK
    for x0, x1 in ((box.x0 - 2, box.x0 + reach), (box.x1 - reach, box.x1 + 2)):
        x0, x1 = max(0, x0), min(inky.shape[1], x1)
        if x1 <= x0:
            return False
        upright = np.count_nonzero(band[:, x0:x1], axis=0) >= WALL_SPAN * band.shape[0]
        if not upright.any() or _goes_on(above, x0, x1) or _goes_on(below, x0, x1):
            return False
    return True


def _window(
    inky: np.ndarray, box: Box, removed: np.ndarray, lines: list[tuple[int, int, int, int]]
) -> np.ndarray:
    """``inky`` within ``box``, a few columns round it (a wall's anti-aliased edge) and the rows
    above and below where a wall that is no wall goes on past the lines; without the ruling
    pixels (``removed``) of the other ``lines`` there (the lines of a row of cells just above
    or below, which would make a table of it)."""
    h = inky.shape[0]
    more = WALL_OVERRUN + OVERRUN_ROWS + 2
    y0, y1 = max(0, box.y0 - more), min(h, box.y1 + more)
    x0, x1 = max(0, box.x0 - 3), box.x1 + 3
    sub = inky[y0:y1, x0:x1].copy()
    for _, ly0, _, ly1 in lines:
        for a, b in ((max(ly0, y0), min(ly1, box.y0)), (max(ly0, box.y1), min(ly1, y1))):
            if a < b:
                sub[a - y0 : b - y0] &= ~removed[a:b, x0:x1]
    return sub


def _rejoined_along(cleaned: np.ndarray, along: np.ndarray) -> np.ndarray:
    """The pixels of ``along`` (a frame's lines within its cells) that join two pieces of ink
    of ``cleaned`` apart, along the line and at most a ``_ALONG_LINES`` gap: a stroke drawn
    along the line was taken out with it and cut its digit in two. A gap between two ends of
    one piece (a 0 crossing the line twice) stays open: filled, it would draw a bar."""
    out = np.zeros_like(cleaned)
    x, y, w, h = cv2.boundingRect(along.view(np.uint8))
    if w == 0:
        return out
    # a gap's ends lie a kernel's length beyond the lines' box at most
    x0, x1 = max(0, x - _ALONG_LINES.shape[1]), x + w + _ALONG_LINES.shape[1]
    y0, y1 = max(0, y - 1), y + h + 1
    ink = cleaned[y0:y1, x0:x1]
    gaps = cv2.morphologyEx(ink.view(np.uint8), cv2.MORPH_CLOSE, _ALONG_LINES).view(bool)
    gaps &= along[y0:y1, x0:x1] & ~ink
    if not gaps.any():
        return out
    _, pieces = cv2.connectedComponents(ink.view(np.uint8), connectivity=8)
    n, fills, stats, _ = cv2.connectedComponentsWithStats(gaps.view(np.uint8), connectivity=8)
    grow = np.ones((3, 3), np.uint8)
    for k in range(1, n):
        gx, gy, gw, gh = (int(v) for v in stats[k, :4])
        ax, ay = max(0, gx - 1), max(0, gy - 1)
        fill = fills[ay : gy + gh + 1, ax : gx + gw + 1] == k
        touching = (
            cv2.dilate(fill.view(np.uint8), grow).view(bool)
            & ink[ay : gy + gh + 1, ax : gx + gw + 1]
        )
        if len(np.unique(pieces[ay : gy + gh + 1, ax : gx + gw + 1][touching])) >= 2:
            out[y0 + ay : y0 + gy + gh + 1, x0 + ax : x0 + gx + gw + 1] |= fill
    return out


def frame_pixels(
    sub: np.ndarray, ink: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]] | None:
    """The pixels of the frame of form boxes filling the bool mask ``sub`` (one component's
    box), those of its top and bottom lines within its cells (clear of the walls) and its walls'
    columns ``(x0, x1)`` left to right, or None
    when it holds none: two straight lines across it, closed at both ends by walls, with walls
    between evenly spaced cells. ``ink`` as for :func:`remove_form_frames`. A row of cells
    tilted more than a degree is levelled first (see :mod:`digitpad.segment.shear`)."""
    h, w = sub.shape
    if h < FRAME_MIN_HEIGHT or w == 0:
        return None  # too low for a cell between two lines (and OpenCV refuses an empty mask)
    # a tilted frame is looked for only in a row of cells at least TILTED_MIN_ASPECT wide:
    # fitting an edge to every pair of touching digits on a page costs more than it finds
    slope = edge_slope(sub) if w >= TILTED_MIN_ASPECT * h else None
    if slope is not None and abs(slope) >= LEAST_SHEAR:
        # levelled exactly, rather than found in grown rows and taken out in part
        offsets = shear_offsets(w, slope)
        level = _level_frame_pixels(
            sheared(sub, offsets), None if ink is None else sheared(ink, offsets), slant=True
        )
        if level is not None:
            frame, along = (unsheared(a, offsets, h) for a in level[:2])
            return frame & sub, along & sub, level[2]  # a vertical shear keeps the columns
    return _level_frame_pixels(sub, ink)


def _level_frame_pixels(
    sub: np.ndarray, ink: np.ndarray | None, *, slant: bool = False
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]] | None:
    """:func:`frame_pixels` of a frame at most a degree off level; with ``slant``, its walls
    may lean a pixel across their height (a tilted frame levelled by a shear keeps the tilt of
    its walls)."""
    bands = _line_bands(sub)
    # a table's rows have lines between them: its cells are no row of one number's digits
    # (the grown bands reach half their growth past the lines on either side)
    if len(bands) != 2 or bands[1][0] - bands[0][1] < FRAME_MIN_HEIGHT - _SKEW_ROWS.shape[0] + 1:
        return None
    lines = [_on_line(sub, band) for band in (bands[0], bands[-1])]
    rows = [np.flatnonzero(line.any(axis=1)) for line in lines]
    if rows[0].size == 0 or rows[1].size == 0:
        return None
    # the rows the fitted lines run through, tilt included
    top, bottom = (int(rows[0][0]), int(rows[0][-1]) + 1), (int(rows[1][0]), int(rows[1][-1]) + 1)
    if bottom[0] - top[1] < FRAME_MIN_HEIGHT:
        return None
    walls = _walls(sub, top, bottom, slant=slant)
    if walls is None:
        return None
    frame = np.zeros_like(sub)
    for line, band in zip(lines, (top, bottom), strict=True):
        frame |= line & _thin_across(sub, band, horizontal=True)
    if ink is not None:
        frame &= ~dark_strokes_on(frame, ink, horizontal=True)
    for x0, x1 in walls:
        # a wall's own columns go whole: a digit touching it must not keep a piece of it,
        # which would read as a "1" beside it; its anti-aliased edges only where thin
        frame[top[0] : bottom[1], x0:x1] |= sub[top[0] : bottom[1], x0:x1]
        frame |= _thin_across(
            sub, (max(0, x0 - 1), x1 + 1), horizontal=False, within=(top[0], bottom[1])
        )
    along = frame.copy()
    for x0, x1 in walls:
        along[:, max(0, x0 - 2) : x1 + 2] = False
    return frame, along, walls


def _on_line(sub: np.ndarray, band: tuple[int, int]) -> np.ndarray:
    """The pixels of ``sub`` within half the line's thickness and a pixel of the straight line
    fitted through the rows ``band``: through the middle of the ink of each column where the
    band holds the line alone (no more ink than the line's median thickness)."""
    y0, y1 = band
    part = sub[y0:y1]
    counts = np.count_nonzero(part, axis=0)
    out = np.zeros_like(sub)
    if not counts.any():
        return out
    thick = float(percentile_sorted(np.sort(counts[counts > 0]), 50.0))
    plain = np.flatnonzero((counts > 0) & (counts <= thick))
    if plain.size < 2:
        return out
    rows = np.arange(y1 - y0, dtype=np.float64)[:, None]
    middle = (part[:, plain] * rows).sum(axis=0) / counts[plain]
    slope, offset = line_fit(plain.astype(np.float64), middle)
    centre = y0 + offset + slope * np.arange(sub.shape[1])
    near = np.abs(np.arange(sub.shape[0])[:, None] - centre[None, :]) <= thick / 2 + 1
    return sub & near


def _thin_across(
    sub: np.ndarray,
    span: tuple[int, int],
    *,
    horizontal: bool,
    within: tuple[int, int] | None = None,
) -> np.ndarray:
    """The pixels of the line lying in rows (``horizontal``) or columns ``span`` of ``sub``
    whose run of ink across the line is no longer than the line's own thickness (the median
    run over its length) and its anti-aliased edges: a stroke crossing the line, or drawn along
    it, makes a longer run and stays. ``within`` limits a wall to the frame's rows."""
    a, b = span
    lo, hi = within or (0, sub.shape[1] if horizontal else sub.shape[0])
    part = sub[a:b, lo:hi] if horizontal else sub[lo:hi, a:b]
    counts = np.count_nonzero(part, axis=0 if horizontal else 1)
    thick = int(percentile_sorted(np.sort(counts[counts > 0]), 50.0)) if counts.any() else 0
    out = np.zeros_like(sub)
    if thick == 0:
        return out
    # runs across the line, looked at a pixel beyond its rows (columns) on either side
    a2, b2 = max(0, a - thick - 2), b + thick + 2
    near = sub[a2:b2, lo:hi] if horizontal else sub[lo:hi, a2:b2]
    kernel = np.ones((thick + 3, 1) if horizontal else (1, thick + 3), np.uint8)
    long_runs = cv2.morphologyEx(near.view(np.uint8), cv2.MORPH_OPEN, kernel).view(bool)
    thin = near & ~long_runs
    if horizontal:
        out[a2:b2, lo:hi] = thin
        out[:a] = False
        out[b:] = False
    else:
        out[lo:hi, a2:b2] = thin
        out[:, :a] = False
        out[:, b:] = False
    return out


def _line_bands(sub: np.ndarray) -> list[tuple[int, int]]:
    """The row ranges ``(y0, y1)`` of the straight lines across ``FRAME_LINE_SPAN`` of the bool
    mask ``sub``'s width (a degree of skew allowed), no thicker than a printed line, top to
    bottom."""
    h, w = sub.shape
    grown = cv2.dilate(sub.view(np.uint8), _SKEW_ROWS)
    across = np.count_nonzero(grown, axis=1) >= FRAME_LINE_SPAN * w
    half = _SKEW_ROWS.shape[0] // 2
    bands = []
    for y0, y1 in _runs(across):
        # a level line's grown rows are its own and ``half`` more either side, but a tilted
        # line's are fewer than its own (only the middle rows' windows hold it all): its
        # rows are within ``half`` of them, which the thin test of the caller narrows down
        if y1 - y0 <= LINE_MAX_THICK:
            bands.append((max(0, y0 - half), min(h, y1 + half)))
    return bands


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The ``(start, end)`` ranges of the consecutive true entries of a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _walls(
    sub: np.ndarray, top: tuple[int, int], bottom: tuple[int, int], *, slant: bool = False
) -> list[tuple[int, int]] | None:
    """The column ranges ``(x0, x1)`` of a frame's walls between its ``top`` and ``bottom``
    lines, or None when the frame is not closed at both ends: ink down ``WALL_SPAN`` of the band
    between the lines, stopping within ``WALL_OVERRUN`` of them, no wider than a printed line,
    on the frame's grid of equal cells (see :func:`_even_walls`)."""
    inner = sub[top[1] : bottom[0]]
    if slant:  # a leaning wall's ink in a column and its neighbours
        inner = cv2.dilate(inner.view(np.uint8), _LEAN).view(bool)
    upright = np.count_nonzero(inner, axis=0) >= WALL_SPAN * inner.shape[0]
    above = sub[max(0, top[0] - WALL_OVERRUN - OVERRUN_ROWS) : max(0, top[0] - WALL_OVERRUN)]
    below = sub[bottom[1] + WALL_OVERRUN : bottom[1] + WALL_OVERRUN + OVERRUN_ROWS]
    walls = []
    for x0, x1 in _runs(upright):
        if x1 - x0 > LINE_MAX_THICK:
            continue
        # a wall meets both lines; a digit's stroke inside a cell leaves a gap at one of them
        if not (inner[0, x0:x1].any() and inner[-1, x0:x1].any()):
            continue
        # a wall stops at the lines; a "1" standing on them goes on past (a digit's stroke
        # passing over the wall beyond a line crosses it in a few rows only)
        if _goes_on(above, x0, x1) or _goes_on(below, x0, x1):
            continue
        walls.append((x0, x1))
    if len(walls) < 2:
        return None
    reach = LINE_MAX_THICK
    xs = np.flatnonzero(sub[top[0] : top[1]].any(axis=0))
    if walls[0][0] > xs[0] + reach or walls[-1][1] < xs[-1] + 1 - reach:
        return None  # not closed at both ends: a comb, a table's edge, a digit's bars
    return _even_walls(walls)


def _goes_on(rows: np.ndarray, x0: int, x1: int) -> bool:
    """Some column of ``x0:x1`` is ink in every one of ``rows`` (``OVERRUN_ROWS`` of them; fewer
    at the box's edge leave no room to go on)."""
    return rows.shape[0] == OVERRUN_ROWS and bool(rows[:, x0:x1].all(axis=0).any())


def _even_walls(walls: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The outer two of ``walls`` and the inner ones on the frame's grid of equal cells: those
    within ``GRID_SLACK`` of a cell's width of their place, on the grid that places the most
    (and no more than a pixel thicker than the outer walls, anti-aliasing; a lone inner wall
    of two cells no thicker than the thinner of them). A "1" written touching both lines stands
    off the grid, or is thicker than the printed walls; one in the middle of a box round a
    number, as thin as the box's sides, is taken for a wall (README: known limits)."""
    left, right = walls[0], walls[-1]
    thickest = max(left[1] - left[0], right[1] - right[0]) + 1
    inner = [x for x in walls[1:-1] if x[1] - x[0] <= thickest]
    centre = np.array([(a + b) / 2 for a, b in inner])
    x_left, x_right = (left[0] + left[1]) / 2, (right[0] + right[1]) / 2
    best: list[tuple[int, int]] = []
    if not inner:
        return [left, right]
    # a wall a digit hides (or joins) is missing from the candidates: the grid that places
    # the most of them wins, if it places at least half of its own inner walls
    for n in range(2, int((x_right - x_left) / FRAME_MIN_HEIGHT) + 1):
        cell = (x_right - x_left) / n
        places = x_left + cell * np.arange(1, n)
        off = np.abs(places[:, None] - centre[None, :])
        found = off.min(axis=1) <= GRID_SLACK * cell
        picked = [inner[int(i)] for i in off.argmin(axis=1)[found]]
        # one wall found of a grid's many is no grid: a "1" stands a third of the way along
        if n == 2:
            thinnest = min(left[1] - left[0], right[1] - right[0])
            enough = len(picked) == 1 and picked[0][1] - picked[0][0] <= thinnest
        else:
            enough = len(picked) >= 2
        if enough and len(picked) > len(best) and 2 * len(picked) >= n - 1:
            best = picked
    return [left, *best, right]
