"""Touching digits: candidate cuts of a wide box, for the classifier to score."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from digitpad.segment.boxes import MIN_AREA, MIN_HEIGHT
from digitpad.segment.ink import MASK_LEVEL, MASK_U8
from digitpad.types import Box

# a box at least this wide for its height may be touching digits, two narrow ones ("11", "17")
# included; below WIDE_ASPECT only two parts fit, and each of their cuts is tried like a wider
# box's (analysis pages 9.2-9.5 M: mean exact 74.25 -> 75.25 % against the first cut alone)
SPLIT_ASPECT = 0.6
WIDE_ASPECT = 0.85
MAX_PARTS = 4
# A box the segmenter grouped from pieces of ink that do not touch is also read as those
# pieces, one box each (see component_parts): a dash beside a "9" whose tail curls under it, a
# plus sign before a "1", a "7" whose bar reaches over the "1" before it were one box that read
# "not a digit" or one digit, and no cut straight down parts them. Each part's crop is cut
# from its box like any other, so it may still hold some ink of the other piece; its box, and
# the context stage's reading of it as a part, are what change. A piece counts when it spans
# at least COMPONENT_MIN of the box's height across or down (smaller ones are specks of the
# same ink); a box of more than MAX_COMPONENTS pieces is a scribble or a word.
COMPONENT_MIN = 0.15
MAX_COMPONENTS = 3
# A "1" drawn over the edge of its neighbour ("13", "81" with the stem inside the other's box)
# is one box with it, and the cuts near the middle never part a stem that narrow. stem_cuts
# seeks a cut within STEM_ZONE of the box's width from either side (the STEM_CUTS deepest
# minima of the ink profile there) and keeps it when that side's part is a stem: at most
# STEM_MAX_ASPECT of its height wide, spanning at least STEM_MIN_SPAN of the box's height.
STEM_ZONE = (0.08, 0.35)
STEM_CUTS = 2
STEM_MAX_ASPECT = 0.4
STEM_MIN_SPAN = 0.75
# ...unless the rest's ink crosses the cut only within STEM_END of the stem's height from its
# top or bottom: a letter's corner (the spine of a D, the legs of a П or a Ш), where a "1"
# drawn over a digit meets its strokes along the way.
STEM_END = 0.2


def split_candidates(
    ink: np.ndarray, box: Box, *, every_narrow_cut: bool = True
) -> list[tuple[Box, ...]]:
    """Ways to cut a wide ``box`` (ink pixels) into 2..MAX_PARTS digits side by side.

    Cuts go through minima of the column ink profile near the evenly spaced positions; for two
    parts the three deepest minima of the middle are each tried. Each part is shrunk to its own
    ink. The classifier scores the readings (see ``digitpad.choose``); none is chosen here.
    Returns [] for a box narrower than ``SPLIT_ASPECT`` of its height (no room for two digits)
    or off the ink map. Without ``every_narrow_cut`` a box narrower than ``WIDE_ASPECT`` gets
    only the first cut (the deepest minimum near its middle): the candidates the shipped model
    was trained on. Never raises.
    """
    crop = _room_for_two(ink, box)
    if crop is None:
        return []
    w, h = box.width, box.height
    profile = _profile(crop)
    if not every_narrow_cut and w < WIDE_ASPECT * h:
        parts = _parts(crop, box, _cut_sets(profile, 2)[0])
        return [parts] if parts is not None else []
    out: list[tuple[Box, ...]] = []
    seen: set[tuple[int, ...]] = set()
    max_k = min(MAX_PARTS, max(2, round(w / (0.5 * h))))
    for k in range(2, max_k + 1):
        for cuts in _cut_sets(profile, k):
            key = tuple(cuts)
            if key in seen:
                continue
            seen.add(key)
            parts = _parts(crop, box, cuts)
            if parts is not None:
                out.append(parts)
    return out


def stem_cuts(ink: np.ndarray, box: Box) -> list[tuple[Box, Box]]:
    """Two-part cuts of ``box`` (ink pixels) that part a stem at either side from the rest
    (see ``STEM_ZONE``), parts left to right: a "1" drawn over its neighbour's edge. Each
    part is shrunk to its own ink. Returns [] for a box narrower than ``SPLIT_ASPECT`` of its
    height, or off the ink map. The classifier scores them; the recogniser reads them for boxes
    not read surely as one digit, as a fallback (see ``digitpad.choose``). Never raises.
    """
    crop = _room_for_two(ink, box)
    if crop is None:
        return []
    w, h = box.width, box.height
    profile = _profile(crop)
    near, far = STEM_ZONE
    out: list[tuple[Box, Box]] = []
    for left, lo, hi in ((True, near, far), (False, 1.0 - far, 1.0 - near)):
        a, b = max(2, int(lo * w)), min(w - 2, int(hi * w) + 1)
        for i in _deepest_minima(profile[a:b])[:STEM_CUTS]:
            parts = _parts(crop, box, [a + i])
            if parts is None:
                continue
            stem, rest = parts if left else parts[::-1]
            if (
                stem.width <= STEM_MAX_ASPECT * stem.height
                and stem.height >= STEM_MIN_SPAN * h
                and not _joined_at_ends(crop, a + i, stem.y0 - box.y0, stem.height)
            ):
                out.append((stem, rest) if left else (rest, stem))
    return out


def _room_for_two(ink: np.ndarray, box: Box) -> np.ndarray | None:
    """The crop of ``box`` from ``ink`` when two digits could stand in it side by side (at least
    ``MIN_HEIGHT`` tall, ``SPLIT_ASPECT`` of its height wide) and it holds any pixel; else None
    (an empty crop has no column to profile)."""
    if box.height < MIN_HEIGHT or box.width < SPLIT_ASPECT * box.height:
        return None
    crop = ink[box.y0 : box.y1, box.x0 : box.x1]
    return crop if crop.size else None


def _joined_at_ends(crop: np.ndarray, cut: int, top: int, height: int) -> bool:
    """The sure ink of the columns around ``cut`` (crop pixels) lies only within ``STEM_END``
    of the stem's ``height`` from its ``top`` or its bottom (rows of ``crop``)."""
    rows = np.flatnonzero(_inky(crop[:, max(0, cut - 1) : cut + 2]).any(axis=1))
    if rows.size == 0:
        return False
    lo, hi = top + STEM_END * height, top + height - STEM_END * height
    return not np.any((rows >= lo) & (rows < hi))


def component_parts(ink: np.ndarray, box: Box) -> tuple[Box, ...] | None:
    """The pieces of ``box`` (ink pixels) that do not touch, one box each, left to right: the
    8-connected components of its sure ink (``MASK_U8``; strokes drawn apart, or one stroke
    broken where it is pale) spanning at least ``COMPONENT_MIN`` of its height across or down
    and no specks (``MIN_AREA``), when there are two to ``MAX_COMPONENTS`` of them and none
    spans the whole box (that reading would be the box again and a speck); else None. Parts
    may overlap. The classifier scores this reading beside the cuts (see
    ``recognise_service``). Never raises; a box off the ink map or empty gives None.
    """
    if box.height < MIN_HEIGHT:
        return None
    crop = ink[box.y0 : box.y1, box.x0 : box.x1]
    if crop.size == 0:  # OpenCV's component search crashes on an empty image
        return None
    n, _, stats, _ = cv2.connectedComponentsWithStats(_inky(crop).view(np.uint8), connectivity=8)
    least = COMPONENT_MIN * box.height
    kept = [
        k for k in range(1, n) if max(stats[k, 2], stats[k, 3]) >= least and stats[k, 4] >= MIN_AREA
    ]
    if not 2 <= len(kept) <= MAX_COMPONENTS:
        return None
    parts = []
    for k in kept:
        x, y, w, h = (int(v) for v in stats[k, :4])
        parts.append(Box(box.x0 + x, box.y0 + y, box.x0 + x + w, box.y0 + y + h))
    if box in parts:
        return None
    return tuple(sorted(parts, key=lambda b: (b.x0, b.y0)))


def _inky(ink: np.ndarray) -> np.ndarray:
    """Where an ink map (uint8 or float) is surely ink."""
    return ink > (MASK_U8 if ink.dtype == np.uint8 else MASK_LEVEL)


def _profile(crop: np.ndarray) -> np.ndarray:
    """The sure ink of each column of ``crop``, smoothed over three columns (float32)."""
    profile = _inky(crop).sum(axis=0).astype(np.float32)
    return np.convolve(profile, np.ones(3, np.float32) / 3.0, mode="same")


def _deepest_minima(seg: np.ndarray) -> list[int]:
    """Indices of the local minima of ``seg`` (plateaus included), deepest first; [] when
    ``seg`` has fewer than three values."""
    if seg.size < 3:
        return []
    is_min = np.r_[True, seg[1:] <= seg[:-1]] & np.r_[seg[:-1] <= seg[1:], True]
    idx = np.flatnonzero(is_min)
    return [int(i) for i in idx[np.argsort(seg[idx], kind="stable")]]


def _cut_sets(profile: np.ndarray, k: int) -> list[list[int]]:
    w = profile.size
    step = w / k
    best = []
    for j in range(1, k):
        lo, hi = int(j * step - 0.35 * step), int(j * step + 0.35 * step) + 1
        lo, hi = max(2, lo), min(w - 2, hi)
        if hi <= lo:
            return []
        seg = profile[lo:hi] + 0.02 * np.abs(np.arange(lo, hi) - j * step)  # prefer the centre
        best.append(lo + int(np.argmin(seg)))
    sets = [best]
    if k == 2:
        # the junction of two touching round digits is no profile minimum: try fixed cuts too
        for f in (0.4, 0.5, 0.6):
            c = round(f * w)
            if all(abs(c - s[0]) > 2 for s in sets):
                sets.append([c])
        lo, hi = int(0.25 * w), int(0.75 * w) + 1
        for i in _deepest_minima(profile[lo:hi])[:2]:  # local minima of the middle half
            c = lo + i
            if all(abs(c - s[0]) > 2 for s in sets):
                sets.append([c])
    return sets


def _parts(crop: np.ndarray, box: Box, cuts: list[int]) -> tuple[Box, ...] | None:
    edges = [0, *cuts, crop.shape[1]]
    parts = []
    for a, b in itertools.pairwise(edges):
        sub = _inky(crop[:, a:b])
        rows = np.flatnonzero(sub.any(axis=1))
        cols = np.flatnonzero(sub.any(axis=0))
        if rows.size == 0 or rows[-1] - rows[0] + 1 < 0.3 * box.height:
            return None  # an empty or tiny part is no digit: this cut is wrong
        parts.append(
            Box(
                box.x0 + a + int(cols[0]),
                box.y0 + int(rows[0]),
                box.x0 + a + int(cols[-1]) + 1,
                box.y0 + int(rows[-1]) + 1,
            )
        )
    return tuple(parts)
