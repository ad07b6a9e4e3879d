"""Printed rulings, squared paper, underlines and strike-throughs: found and removed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

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

LINE_MAX_THICK = 9  # printed lines are thinner than this (work pixels)
# a piece of ink with no more than this many pixels off the removed rulings is ruling debris
# (see drop_line_remnants); a digit's strokes leave the rulings for far more
REMNANT_MAX_OFF_LINE = 20
PATH_CHUNK = 16  # columns to a point of a line's path (see _on_path)
PATH_SLACK = 1.5  # pixels off a line's half thickness still on it (see _on_path)
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
# _on_path): the whole run took the pencil strokes a few pixels beside it (a 7's stem). Not
# paler ones: every ruling on its own path lost more blue-ink pages than it won (HISTORY).
PATH_LEVEL = 95.0
# A faint ruling fades below the ink threshold in stretches and falls apart into runs shorter
# than a line (pale pencil-grey squares: runs of about 120 px on a 1024 px page). Runs that
# continue one another make one line: the next starts at most CHAIN_GAP of the page on, its
# middle across within CHAIN_DRIFT px plus CHAIN_SLOPE (2 degrees) of the distance of the last's.
CHAIN_GAP = 0.15
CHAIN_DRIFT = 2.0
CHAIN_SLOPE = 0.035
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
    :func:`_has_lines`), upright lines without the lines across found first, a line takes
    only the ink on its own path (see :func:`_on_path`), and strokes are bridged across a line
    over ``TABLE_BRIDGE`` pixels only, not 13. Without ``upright``, only lines across are
    looked for. ``v1``: lines are looked for and strokes kept on them as when the shipped v1
    weights' training crops were cut (see :func:`_has_lines` and :func:`dark_strokes_on`);
    without it (nor ``tables``), rulings at least ``PATH_LEVEL`` in ``ink`` take only the ink
    on their paths (see :func:`_on_path`).
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
        if not tables and not _has_lines(look, horizontal, v1=v1):
            continue
        runs = _find_runs(look, horizontal, 1.0, chains=not v1)
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
    ways, and the cheap look at half size (see :func:`_has_lines`) finds a line in its ink
    over ``FAINT_U8`` in either direction. A page it says no to gains nothing from a look with
    ``faint``."""
    if min(ink.shape[:2]) < FAINT_MIN_SIDE:
        return False
    fainter = (ink > FAINT_U8).view(np.uint8)
    return _has_lines(fainter, True) or _has_lines(fainter, False)


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


def _has_lines(m8: np.ndarray, horizontal: bool, *, v1: bool = False) -> bool:
    """A cheap look at half resolution: could there be lines of this direction at all? With
    ``v1``, the page is halved as when the shipped v1 weights' training crops were cut: the
    0/1 mask's means rounded (a lone pixel of a 2x2 block goes, and from an odd side, where
    the halving is no exact 2x2 mean, a line one pixel thick too)."""
    h, w = m8.shape
    if min(h, w) < 400:
        return True
    # any ink in a 2x2 block: a one-pixel line survives the halving. A 0/1 mask's means
    # rounded such a line to nothing from an odd side: a pale squared page's whole grid went
    small = cv2.resize(
        m8 if v1 else m8 * np.uint8(255), (w // 2, h // 2), interpolation=cv2.INTER_AREA
    )
    small = (small > 0).view(np.uint8)
    return _line_mask(small, horizontal, 0.5, chains=not v1) is not None


def _line_mask(
    m8: np.ndarray,
    horizontal: bool,
    zoom: float = 1.0,
    *,
    paths: bool = False,
    chains: bool = False,
) -> np.ndarray | None:
    """uint8 mask of the long straight runs of one direction, or None when there are none.

    A run must span 30% of the page width (horizontal) or half its height (vertical), so a tall
    "1" is not taken for a ruling; on a ruled page (four lines or more), 20%. ``zoom`` is the
    mask's scale relative to the work image. With ``paths``, a line is only the ink on its
    path, not all the ink its run reached (see :func:`_on_path`). With ``chains``, shorter
    runs that continue one another are one line too (see :func:`_chains`).
    """
    runs = _find_runs(m8, horizontal, zoom, chains=chains)
    return None if runs is None else runs.mask(paths=paths)


@dataclass(frozen=True)
class _Runs:
    """The rulings' runs of one direction that :func:`_find_runs` kept, in the rectangle
    ``(x, y, bw, bh)`` of the mask that holds them: enough to draw their mask either way
    (whole runs, or only the ink on their paths) without finding them again."""

    m8: np.ndarray
    horizontal: bool
    rect: tuple[int, int, int, int]
    labels: np.ndarray
    stats: np.ndarray
    keep: np.ndarray
    pieces: list[np.ndarray]
    thickness: float
    thin: np.ndarray

    def mask(self, *, paths: bool) -> np.ndarray:
        """uint8: the ink on the runs (``paths``: only on their paths) that is thin across."""
        x, y, bw, bh = self.rect
        window = (slice(y, y + bh), slice(x, x + bw))
        region = self.m8[window]
        on_line = np.zeros_like(self.m8)
        if paths:
            on_line[window] = _on_paths(region, self.labels, self.stats, self.keep, self.horizontal)
        else:
            on_line[window] = self.keep[self.labels].astype(np.uint8) & region
        if self.pieces:
            # a stretch of the ruling too short for a run, between two runs of its line, is line
            # too: left as ink, it joined the digits it touched into one box
            gaps = _between(self.stats, self.pieces, self.horizontal, region.shape)
            on_line[window] |= gaps & region
        return on_line & self.thin


def _find_runs(m8: np.ndarray, horizontal: bool, zoom: float, *, chains: bool) -> _Runs | None:
    """The long straight runs of one direction in ``m8`` (see :func:`_line_mask`), or None."""
    h, w = m8.shape
    extent = w if horizontal else h
    length = max(round(25 * zoom), extent // 12)
    bridge = np.ones((1, 9) if horizontal else (9, 1), np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
    bridged = cv2.morphologyEx(m8, cv2.MORPH_CLOSE, bridge)
    # a ruling tilted by a degree steps sideways every 30-60 px, shorter than the kernel:
    # thicken it across so the steps overlap into one long run
    k = 5 if zoom >= 1.0 else 3
    bridged = cv2.dilate(bridged, np.ones((k, 1) if horizontal else (1, k), np.uint8))
    runs = open_if_any(bridged, kernel)
    if runs is None:
        return None
    # label only the rectangle that holds runs (often a few columns: tall digits); 16-bit
    # labels: several times faster here, and runs this long are never 65535
    x, y, bw, bh = cv2.boundingRect(runs)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        runs[y : y + bh, x : x + bw], connectivity=8, ltype=cv2.CV_16U
    )
    span = stats[:, cv2.CC_STAT_WIDTH] if horizontal else stats[:, cv2.CC_STAT_HEIGHT]
    thick = stats[:, cv2.CC_STAT_HEIGHT] if horizontal else stats[:, cv2.CC_STAT_WIDTH]
    keep = (span >= 0.2 * extent) & (span >= 15 * thick)
    keep[0] = False
    lines = int(keep.sum())
    pieces: list[np.ndarray] = []
    if chains and lines < 4:
        # only where the rulings were not found whole: on a page where they were, the short
        # runs left are where strokes lie along a line (the bar of a 7), and they stay
        pieces = _chains(stats, keep, horizontal, extent)
        lines += len(pieces)
    if lines < 4:  # not a ruled or squared page: only a really long line is a line
        keep &= span >= (0.3 if horizontal else 0.5) * extent
        pieces = []
    for piece in pieces:
        keep[piece] = True
    if not keep.any():
        return None
    # the rulings' own thickness (ink per unit of length); a crossing stroke is a bit thicker
    ink_on_runs = np.count_nonzero(keep[labels].astype(np.uint8) & m8[y : y + bh, x : x + bw])
    thickness = ink_on_runs / max(1, int(span[keep].sum()))
    # only ink that is thin across the line is line: a digit stroke crossing it (or a bold one
    # on it) has a long run across and stays whole
    t = int(np.clip(round(thickness) + 3, 3, max(3, round(LINE_MAX_THICK * zoom))))
    across = np.ones((t, 1) if horizontal else (1, t), np.uint8)
    thin = m8 & ~cv2.morphologyEx(m8, cv2.MORPH_OPEN, across)
    return _Runs(m8, horizontal, (x, y, bw, bh), labels, stats, keep, pieces, thickness, thin)


def _chains(stats: np.ndarray, kept: np.ndarray, horizontal: bool, extent: int) -> list[np.ndarray]:
    """The runs (component numbers of ``stats``, ``connectedComponentsWithStats`` rows) that
    chain into a line, one array per line, in order along it: two runs or more, 20% of the
    page's ``extent`` along the lines in all. Runs already ``kept`` and runs thicker across
    than a ruling's run at full size (``LINE_MAX_THICK`` and the 5 px dilation across) take
    no part. The look at half size uses the same pixel bounds, looser there: it must not turn
    away a page the full look would take.

    Runs are taken in order of their starts, and each joins the first chain (the oldest) whose
    last run it continues: it starts at most 2 px before that run's end and at most
    ``CHAIN_GAP`` of the page after it, and its middle across lies within ``CHAIN_DRIFT`` px
    plus ``CHAIN_SLOPE`` of the distance between the two runs' middles along the line. On
    squared paper the next ruling is 30 px or more away, so lines never mix.
    """
    at, across = (0, 1) if horizontal else (1, 0)
    thin = np.flatnonzero(~kept & (stats[:, across + 2] <= LINE_MAX_THICK + 5))
    runs = thin[thin > 0]
    runs = runs[np.argsort(stats[runs, at], kind="stable")]
    # plain Python numbers: a loop over numpy scalars cost more than the rest of the look
    start = stats[runs, at].tolist()
    span = stats[runs, at + 2].tolist()
    middle = (stats[runs, across] + stats[runs, across + 2] / 2.0).tolist()
    reach = CHAIN_GAP * extent
    chains: list[list[int]] = []
    for i in range(len(runs)):
        for chain in chains:
            j = chain[-1]
            gap = start[i] - start[j] - span[j]
            far = start[i] - start[j] + (span[i] - span[j]) / 2.0
            if -2 <= gap <= reach and abs(middle[i] - middle[j]) <= CHAIN_DRIFT + CHAIN_SLOPE * far:
                chain.append(i)
                break
        else:
            chains.append([i])
    return [
        runs[c]
        for c in map(np.array, chains)
        if len(c) > 1 and sum(span[i] for i in c) >= 0.2 * extent
    ]


def _between(
    stats: np.ndarray, chains: list[np.ndarray], horizontal: bool, shape: tuple[int, ...]
) -> np.ndarray:
    """uint8 mask of ``shape``: the gaps between consecutive runs of each chain (see
    :func:`_chains`), each as wide across as the two runs it joins."""
    out = np.zeros(shape, np.uint8)
    at, across = (0, 1) if horizontal else (1, 0)
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            lo = int(stats[a, at] + stats[a, at + 2])
            hi = int(stats[b, at])
            top = int(min(stats[a, across], stats[b, across]))
            ends = stats[[a, b], across] + stats[[a, b], across + 2]
            bottom = int(ends.max())
            if horizontal:
                out[top:bottom, lo:hi] = 1
            else:
                out[lo:hi, top:bottom] = 1
    return out


def _on_paths(
    region: np.ndarray, labels: np.ndarray, stats: np.ndarray, keep: np.ndarray, horizontal: bool
) -> np.ndarray:
    """uint8: the ink of ``region`` on the paths of the kept runs of ``labels`` (see
    :func:`_on_path`); ``stats`` are the runs' ``connectedComponentsWithStats`` rows."""
    out = np.zeros_like(region)
    for k in np.flatnonzero(keep):
        x, y, w, h = (int(v) for v in stats[k, :4])
        box = (slice(y, y + h), slice(x, x + w))
        ink = (labels[box] == k) & (region[box] > 0)
        out[box] |= (_on_path(ink) if horizontal else _on_path(ink.T).T).view(np.uint8)
    return out


def _on_path(ink: np.ndarray) -> np.ndarray:
    """The pixels of a horizontal line's ``ink`` (bool, the box of its run) within reach of its
    path; the rest is ink beside the line that its run reached.

    A run is thickened across so that a tilted line's steps join; so thickened, it also reaches
    ink a few pixels off the line, and on a tilted table that was the tops of a row of digits
    below a line across, taken away with it ("50" read as nothing). The path follows the
    columns where the ink is one run across (the line alone), through the medians of
    ``PATH_CHUNK`` of them at a time: a stroke crossing the line moves a few of them only. The
    reach is half the line's typical thickness, and ``PATH_SLACK`` more. A run with too few
    such columns keeps all its ink.
    """
    h, w = ink.shape
    count = ink.sum(axis=0)
    first = np.argmax(ink, axis=0)
    last = h - 1 - np.argmax(ink[::-1], axis=0)
    xs = np.flatnonzero((count > 0) & (last - first + 1 == count))
    if xs.size < max(PATH_CHUNK, 0.25 * np.count_nonzero(count)):
        return ink
    n = xs.size // PATH_CHUNK * PATH_CHUNK
    at = np.median(xs[:n].reshape(-1, PATH_CHUNK), axis=1)
    centre = np.median((first[xs[:n]] + last[xs[:n]]).reshape(-1, PATH_CHUNK), axis=1) / 2.0
    path = np.interp(np.arange(w), at, centre)
    reach = np.median(count[xs]) / 2.0 + PATH_SLACK
    return ink & (np.abs(np.arange(h)[:, None] - path[None, :]) <= reach)


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


def open_if_any(m8: np.ndarray, kernel: np.ndarray) -> np.ndarray | None:
    """``cv2.morphologyEx(m8, MORPH_OPEN, kernel)`` for a 1-pixel-thin line ``kernel`` (1 x L or
    L x 1, centred), or None when that is empty.

    An opening is the dilation of the erosion, and a dilation of nothing is nothing. The
    erosion runs along one direction only, so it is computed just for the rows (columns) that
    hold enough ink for a run that long: at least ``min(L - L // 2, L // 2 + 1)`` pixels, the
    shortest window the centred kernel can have at the page edge (outside counts as ink for an
    erosion). Elsewhere the erosion is empty. Most pages have no run that long at all.
    """
    horizontal = kernel.shape[0] == 1
    length = kernel.shape[1] if horizontal else kernel.shape[0]
    extent = m8.shape[1] if horizontal else m8.shape[0]
    need = min(length - length // 2, length // 2 + 1, extent)
    counts = cv2.reduce(m8, 1 if horizontal else 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    lanes = np.flatnonzero(counts >= need)
    if lanes.size == 0:
        return None
    # gathering columns is a strided copy, dearer than eroding them all once a good part of
    # them qualify (rows are contiguous and cheap to gather)
    if lanes.size == counts.size or (not horizontal and lanes.size > 0.15 * counts.size):
        eroded = cv2.erode(m8, kernel)
    else:
        sub = cv2.erode(m8[lanes] if horizontal else np.ascontiguousarray(m8[:, lanes]), kernel)
        if not sub.any():
            return None
        eroded = np.zeros_like(m8)
        if horizontal:
            eroded[lanes] = sub
        else:
            eroded[:, lanes] = sub
    if not eroded.any():
        return None
    return cv2.dilate(eroded, kernel)
