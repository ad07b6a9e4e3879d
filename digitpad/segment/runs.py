"""The rulings' runs: long straight runs of ink of one direction in a binary mask, found
cheaply, chained where a faint ruling fell apart, and drawn as the ink on them (all the ink a
run reached, or only that on its path). :mod:`digitpad.segment.lines` removes what they find."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

LINE_MAX_THICK = 9  # printed lines are thinner than this (work pixels)
PATH_CHUNK = 16  # columns to a point of a line's path (see _on_path)
PATH_SLACK = 1.5  # pixels off a line's half thickness still on it (see _on_path)
# A faint ruling fades below the ink threshold in stretches and falls apart into runs shorter
# than a line (pale pencil-grey squares: runs of about 120 px on a 1024 px page). Runs that
# continue one another make one line: the next starts at most CHAIN_GAP of the page on, its
# middle across within CHAIN_DRIFT px plus CHAIN_SLOPE (2 degrees) of the distance of the last's.
CHAIN_GAP = 0.15
CHAIN_DRIFT = 2.0
CHAIN_SLOPE = 0.035


def has_lines(m8: np.ndarray, horizontal: bool, *, v1: bool = False) -> bool:
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
    runs = find_runs(m8, horizontal, zoom, chains=chains)
    return None if runs is None else runs.mask(paths=paths)


@dataclass(frozen=True)
class Runs:
    """The rulings' runs of one direction that :func:`find_runs` kept, in the rectangle
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


def find_runs(m8: np.ndarray, horizontal: bool, zoom: float, *, chains: bool) -> Runs | None:
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
    return Runs(m8, horizontal, (x, y, bw, bh), labels, stats, keep, pieces, thickness, thin)


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
