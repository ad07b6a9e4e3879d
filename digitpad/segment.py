"""Segmentation: from an RGB page to an ink map and candidate digit boxes (OpenCV only).

The pipeline, in order:

1. Downscale huge pages so the long side is at most ``WORK_MAX_SIDE`` (boxes are mapped back).
2. Ink map: the darkest channel (coloured ink is dark in at least one channel), polarity flipped
   for light ink on dark paper, divided by a smooth background estimate (a max filter then a
   median on a small copy) so shadows and uneven light cancel out, then stretched to [0, 1].
3. Ruled and squared-paper lines (long thin runs across much of the page) are removed, and the
   strokes they crossed are joined again.
4. Connected components; specks dropped; strokes of one digit (a 4 or 5 in two strokes) merged
   when they overlap strongly in x and are close vertically.
5. Dots, dashes and underlines are rejected by size and shape relative to their neighbours.

Everything the classifier has to decide (is this a letter or a digit?) is left to it: the
segmenter proposes, the classifier disposes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np

from digitpad.types import Box

WORK_MAX_SIDE = 1600  # segmentation works at most at this long side (pixels)
MASK_LEVEL = 0.25  # ink map value above which a pixel surely is ink
HYSTERESIS_REACH = 7  # ...within this window (pixels) of sure ink
LINE_LEVEL = 0.05  # printed rulings are looked for down to this level
LOW_LEVEL = 0.1  # ...and above which it is ink when connected to sure ink (hysteresis)
MASK_U8 = round(MASK_LEVEL * 255)
LOW_U8 = round(LOW_LEVEL * 255)
MIN_AREA = 6  # components smaller than this (work pixels) are specks
LINE_MAX_THICK = 9  # printed lines are thinner than this (work pixels)
MIN_HEIGHT = 7  # a digit is at least this tall in work pixels (12 px at scale 0.6)


@dataclass(frozen=True)
class Segmentation:
    """What the segmenter found on one page.

    ``ink_u8`` is the ink map as uint8 (255 = solid ink, 0 = paper) at ``scale`` times the
    original resolution (``scale`` is 1.0 unless the page's long side exceeds
    ``WORK_MAX_SIDE``); ``ink`` is the same as float32 in [0, 1]. ``boxes`` are in original
    pixels, sorted top-to-bottom then left-to-right; ``ink_boxes`` are the same boxes in ink-map
    pixels. ``inverted`` says the page was light ink on a dark background.
    """

    ink_u8: np.ndarray
    scale: float
    boxes: list[Box]
    ink_boxes: list[Box] = field(default_factory=list)
    inverted: bool = False

    @property
    def ink(self) -> np.ndarray:
        """The ink map as float32 in [0, 1] (computed on each access; prefer ``ink_u8``)."""
        return self.ink_u8.astype(np.float32) * np.float32(1.0 / 255.0)

    def to_ink(self, box: Box) -> Box:
        """An original-pixel box in ``ink`` coordinates (clipped to the ink map)."""
        h, w = self.ink_u8.shape
        if self.scale == 1.0:
            return box.clip(w, h)
        return box.scaled(self.scale).clip(w, h)

    def to_page(self, box: Box, width: int, height: int) -> Box:
        """An ``ink``-pixel box in original pixels (clipped to the page)."""
        if self.scale == 1.0:
            return box
        return box.scaled(1.0 / self.scale).clip(width, height)


def segment(rgb: np.ndarray) -> Segmentation:
    """Segment an RGB uint8 page (H, W, 3) into an ink map and candidate digit boxes.

    A blank page gives no boxes. Never raises for a valid RGB array.
    """
    h, w = rgb.shape[:2]
    # an integer factor: exact box mapping, and OpenCV's area resize is fast for it
    factor = -(-max(h, w) // WORK_MAX_SIDE)
    scale = 1.0 / factor
    work = rgb
    if factor > 1:
        size = (max(1, w // factor), max(1, h // factor))
        work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    ink, inverted = ink_map_u8(work)
    weak, line_mask = remove_lines(ink > LOW_U8, ink=ink)
    mask = hysteresis(weak, (ink > MASK_U8) & weak)
    mask, under = remove_underlines(mask)
    if line_mask is not None:
        ink[line_mask & ~mask] = 0
    if under is not None:
        ink[under & ~mask] = 0
    ink_boxes = find_boxes(mask)
    seg = Segmentation(ink_u8=ink, scale=scale, boxes=[], ink_boxes=ink_boxes, inverted=inverted)
    boxes = [seg.to_page(b, w, h) for b in ink_boxes]
    return Segmentation(
        ink_u8=ink, scale=scale, boxes=boxes, ink_boxes=ink_boxes, inverted=inverted
    )


# --- ink map ---------------------------------------------------------------------------------


def ink_map(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """Float32 ink in [0, 1] for an RGB page, and whether the page was light-on-dark."""
    ink, inverted = ink_map_u8(rgb)
    return ink.astype(np.float32) * np.float32(1.0 / 255.0), inverted


def ink_map_u8(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ink as uint8 (255 = solid ink, 0 = paper) for an RGB page, and whether it was inverted.

    All in 8-bit OpenCV operations: this runs on every pixel of every page.
    """
    inverted = is_inverted(rgb)
    r, g, b = cv2.split(rgb)
    # coloured ink is dark in at least one channel; light ink is bright in one, so flip it
    lightest_or_darkest = cv2.max(cv2.max(r, g), b) if inverted else cv2.min(cv2.min(r, g), b)
    dark = cv2.bitwise_not(lightest_or_darkest) if inverted else lightest_or_darkest
    background = estimate_background(dark)
    # relative darkness 255 * (bg - dark) / bg: 0 on paper, ~255 for black ink, in any light
    diff = cv2.subtract(background, dark)
    darkness = cv2.divide(diff, cv2.add(background, 1), scale=255.0)
    lo, hi = _stretch_levels(darkness)
    # stretch [lo, hi] to [0, 255] with a lookup table
    levels = (np.arange(256, dtype=np.float32) - lo) * (255.0 / max(hi - lo, 1.0))
    lut = np.clip(levels, 0, 255).astype(np.uint8)
    return cv2.LUT(darkness, lut), inverted


def is_inverted(rgb: np.ndarray) -> bool:
    """True when the page is light ink on a dark background (most pixels are dark)."""
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_NEAREST)
    return float(np.median(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))) < 100.0


def estimate_background(dark: np.ndarray) -> np.ndarray:
    """A smooth estimate of the paper's brightness under the ink (uint8, same shape).

    On a small copy, a max filter (grey dilation) wipes out dark strokes narrower than the
    kernel, and a median then smooths paper texture; the result is scaled back up.
    """
    h, w = dark.shape
    factor = max(1, round(max(h, w) / 160))
    if factor == 1 and max(h, w) <= 64:
        return np.full_like(dark, int(np.percentile(dark, 90)))
    small = cv2.resize(
        dark, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    # strokes of a digit half the page tall are about 1/25 of the page; the kernel must be wider
    k = max(3, (max(small.shape) // 18) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    closed = cv2.dilate(small, kernel)
    closed = cv2.medianBlur(closed, min(k, 5) | 1)
    return cv2.resize(closed, (w, h), interpolation=cv2.INTER_LINEAR)


def _stretch_levels(darkness: np.ndarray) -> tuple[float, float]:
    """The darkness (0..255) of plain paper (noise floor) and of solid ink on this page."""
    step_y, step_x = max(1, darkness.shape[0] // 150), max(1, darkness.shape[1] // 150)
    flat = darkness[::step_y, ::step_x].ravel().astype(np.float32) * (1.0 / 255.0)
    med = float(np.median(flat))
    mad = float(np.median(np.abs(flat - med))) + 1e-3
    lo = min(0.25, max(0.06, med + 6.0 * mad))
    inky = flat[flat > lo + 0.05]
    hi = 0.6 if inky.size < 20 else float(np.percentile(inky, 90))
    hi = float(np.clip(hi, lo + 0.12, 0.75))
    return lo * 255.0, hi * 255.0


def hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """``strong`` plus the ``weak`` pixels within a few pixels of a strong one.

    Thin pencil strokes dip below ``MASK_LEVEL`` along their length; a single threshold would
    break one digit into many pieces, a low one alone would keep paper noise and the remains
    of faint rulings. Growing only a short way bridges the dips without following a ruling.
    """
    near = cv2.dilate(
        strong.astype(np.uint8), np.ones((HYSTERESIS_REACH, HYSTERESIS_REACH), np.uint8)
    )
    return strong | (weak & near.astype(bool))


# --- ruled lines -----------------------------------------------------------------------------


def remove_lines(
    mask: np.ndarray, detect: np.ndarray | None = None, ink: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Remove long thin horizontal/vertical lines from a binary ink mask.

    Lines are looked for in ``detect`` (default ``mask``, a low threshold, because faint printed
    rulings break up at higher levels); short gaps are bridged along the line. A line must run
    across a good part of the page, so a tall "1" or a long "7" bar survives. Strokes the line
    crossed are joined again. With ``ink`` (uint8), pixels much darker than the line's typical
    ink stay: a digit stroke drawn along a faint printed line. Returns the cleaned mask and the
    mask of removed line pixels (None when there were none).
    """
    h, w = mask.shape
    if min(h, w) < 40:
        return mask, None
    m8 = (mask if detect is None else detect).astype(np.uint8)
    removed = np.zeros(mask.shape, bool)
    cleaned = mask.copy()
    for horizontal in (True, False):
        if not _has_lines(m8, horizontal):
            continue
        lines = _line_mask(m8, horizontal)
        if lines is None:
            continue
        # widen a little: anti-aliased line edges are ink too
        lines = cv2.dilate(lines, np.ones((3, 3), np.uint8)).astype(bool) & mask
        if ink is not None:
            lines &= ~_dark_strokes_on(lines, ink, horizontal)
        cleaned &= ~lines
        # strokes that crossed the line were cut: bridge across it, along the crossing direction
        across = np.ones((13, 1) if horizontal else (1, 13), np.uint8)
        joined = cv2.morphologyEx(cleaned.astype(np.uint8), cv2.MORPH_CLOSE, across)
        cleaned |= joined.astype(bool) & lines & mask
        removed |= lines
    if not removed.any():
        return mask, None
    return cleaned, removed


def _dark_strokes_on(lines: np.ndarray, ink: np.ndarray, horizontal: bool) -> np.ndarray:
    """Pixels of ``lines`` clearly darker than the rulings' typical ink, in pieces no longer
    than a digit: a stroke drawn along a faint printed line, not a darker line (a margin)."""
    level = float(np.median(ink[lines])) if lines.any() else 255.0
    if level >= 150:  # dark rulings: nothing stands out
        return np.zeros_like(lines)
    dark = (lines & (ink >= max(2.0 * level, level + 70.0))).astype(np.uint8)
    if not dark.any():
        return dark.astype(bool)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8, ltype=cv2.CV_16U)
    span = stats[:, cv2.CC_STAT_WIDTH] if horizontal else stats[:, cv2.CC_STAT_HEIGHT]
    extent = lines.shape[1] if horizontal else lines.shape[0]
    short = span < max(25, 0.15 * extent)
    short[0] = False
    return short[labels]


def _has_lines(m8: np.ndarray, horizontal: bool) -> bool:
    """A cheap look at half resolution: could there be lines of this direction at all?"""
    h, w = m8.shape
    if min(h, w) < 400:
        return True
    # any ink in a 2x2 block: a one-pixel line survives the halving
    small = (cv2.resize(m8, (w // 2, h // 2), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    return _line_mask(small, horizontal, 0.5) is not None


def _line_mask(m8: np.ndarray, horizontal: bool, zoom: float = 1.0) -> np.ndarray | None:
    """uint8 mask of the long straight runs of one direction, or None when there are none.

    A run must span 30% of the page width (horizontal) or half its height (vertical), so a tall
    "1" is not taken for a ruling. ``zoom`` is the mask's scale relative to the work image.
    """
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
    runs = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, kernel)
    if not runs.any():
        return None
    # 16-bit labels: several times faster here, and runs this long are never 65535
    _, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8, ltype=cv2.CV_16U)
    span = stats[:, cv2.CC_STAT_WIDTH] if horizontal else stats[:, cv2.CC_STAT_HEIGHT]
    thick = stats[:, cv2.CC_STAT_HEIGHT] if horizontal else stats[:, cv2.CC_STAT_WIDTH]
    keep = (span >= 0.2 * extent) & (span >= 15 * thick)
    keep[0] = False
    if keep.sum() < 4:  # not a ruled or squared page: only a really long line is a line
        keep &= span >= (0.3 if horizontal else 0.5) * extent
    if not keep.any():
        return None
    # only ink that is thin across the line is line: a digit stroke crossing it (or a bold one
    # on it) has a long run across and stays whole
    t = max(3, round(LINE_MAX_THICK * zoom))
    across = np.ones((t, 1) if horizontal else (1, t), np.uint8)
    thin = m8 & ~cv2.morphologyEx(m8, cv2.MORPH_OPEN, across)
    return keep[labels].astype(np.uint8) & thin


def remove_underlines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Remove underlines and strike-throughs: thin horizontal runs longer than 2.5 digits.

    Too short for a ruling, they still join a whole number into one component. A run that
    long is no part of a digit (two touching 2s share at most a 1.8-digit bottom bar).
    Returns the cleaned mask and the removed pixels (None when nothing was removed).
    """
    boxes = _raw_boxes(mask.astype(np.uint8))
    if not boxes:
        return mask, None
    typical = typical_height(boxes)
    length = round(2.5 * typical)
    if length >= mask.shape[1] or typical < MIN_HEIGHT:
        return mask, None
    m8 = mask.astype(np.uint8)
    runs = cv2.morphologyEx(m8, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    if not runs.any():
        return mask, None
    t = max(3, round(0.3 * typical))
    runs &= ~cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((t, 1), np.uint8))
    if not runs.any():
        return mask, None
    under = cv2.dilate(runs, np.ones((3, 3), np.uint8)).astype(bool) & mask
    cleaned = mask & ~under
    joined = cv2.morphologyEx(cleaned.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((13, 1), np.uint8))
    cleaned |= joined.astype(bool) & under
    return cleaned, under


# --- components and grouping -----------------------------------------------------------------


def find_boxes(mask: np.ndarray) -> list[Box]:
    """Digit candidate boxes (in ``mask`` pixels) from a binary ink mask."""
    h, w = mask.shape
    boxes = [b for b in _raw_boxes(mask.astype(np.uint8)) if not _border_sliver(b, w, h)]
    if not boxes:
        return []
    boxes = merge_strokes(boxes, typical_height(boxes))
    typical = typical_height(boxes)
    out = [Box(b[0], b[1], b[2], b[3]) for b in boxes if _plausible(b, typical)]
    out.sort(key=lambda b: (b.y0, b.x0))
    return out


def _raw_boxes(m8: np.ndarray) -> list[list[int]]:
    """``[x0, y0, x1, y1, ink pixels]`` of every component larger than a speck."""
    # outer contours give the components' boxes far faster than labelling every pixel
    contours, _ = cv2.findContours(m8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if bw * bh < MIN_AREA:
            continue
        area = int(np.count_nonzero(m8[y : y + bh, x : x + bw]))
        if area >= MIN_AREA:
            boxes.append([x, y, x + bw, y + bh, area])
    return boxes


def merge_strokes(boxes: list[list[int]], typical: float = 0.0) -> list[list[int]]:
    """Merge components that belong to one digit: strong x overlap, small vertical gap.

    Boxes are ``[x0, y0, x1, y1, area]``. Repeats until nothing merges (a digit in three
    strokes merges in two rounds). The merged box may not grow much taller than its tallest part
    or than the page's ``typical`` digit height, so digits of two rows never merge, but the two
    halves of a faint digit broken across its middle do.
    """
    boxes = [list(b) for b in boxes]
    changed = True
    while changed and len(boxes) > 1:
        changed = False
        boxes.sort(key=lambda b: b[0])
        i = 0
        while i < len(boxes):
            a = boxes[i]
            j = i + 1
            while j < len(boxes):
                b = boxes[j]
                if b[0] >= a[2]:
                    break  # sorted by x0: nothing further right overlaps in x
                if _same_digit(a, b, typical):
                    a[:] = [
                        min(a[0], b[0]),
                        min(a[1], b[1]),
                        max(a[2], b[2]),
                        max(a[3], b[3]),
                        a[4] + b[4],
                    ]
                    boxes.pop(j)
                    changed = True
                    continue
                j += 1
            i += 1
    return boxes


def _same_digit(a: list[int], b: list[int], typical: float) -> bool:
    wa, wb = a[2] - a[0], b[2] - b[0]
    ha, hb = a[3] - a[1], b[3] - b[1]
    overlap_x = min(a[2], b[2]) - max(a[0], b[0])
    if overlap_x < 0.5 * min(wa, wb):
        return False
    tall = max(ha, hb)
    gap = max(a[1], b[1]) - min(a[3], b[3])  # negative when they overlap vertically
    if gap > max(0.3 * tall, 0.2 * typical):
        return False
    union_h = max(a[3], b[3]) - min(a[1], b[1])
    union_w = max(a[2], b[2]) - min(a[0], b[0])
    if union_h > max(1.35 * tall, 1.15 * typical):
        return False
    # a small mark inside or just above a big one joins it; two digit-sized parts stacked do not
    return union_w <= 1.3 * max(wa, wb)


def _border_sliver(b: list[int], width: int, height: int) -> bool:
    """A thin piece cut off by the page edge: the end of a ruling, or the edge of the paper."""
    bw, bh = b[2] - b[0], b[3] - b[1]
    at_edge = b[0] == 0 or b[1] == 0 or b[2] == width or b[3] == height
    return at_edge and (bw <= 0.15 * bh or bh <= 0.15 * bw)


def typical_height(boxes: list[list[int]]) -> float:
    """The page's typical digit height: a high-ish median of the taller components."""
    hs = np.array([b[3] - b[1] for b in boxes if b[3] - b[1] >= MIN_HEIGHT], np.float32)
    if hs.size == 0:
        return float(MIN_HEIGHT)
    return float(np.percentile(hs, 60))


def _plausible(b: list[int], typical: float) -> bool:
    """Reject specks, dots, dashes and underlines; keep anything digit-like for the classifier."""
    w, h = b[2] - b[0], b[3] - b[1]
    if h < MIN_HEIGHT and w < MIN_HEIGHT * 2:
        return False
    if min(w, h) <= 1:
        return False  # one pixel thin: a sliver of a ruling, not a pen stroke
    fill = b[4] / max(1, w * h)
    if max(w, h) < 0.18 * typical or (max(w, h) < 0.3 * typical and fill > 0.65):
        return False  # a dot or speck beside digits of normal size (solid, unlike strokes)
    if w > 3.0 * h and h < 0.45 * typical:
        return False  # dash or underline
    return b[4] >= 0.015 * w * h or max(w, h) < 3 * typical


# --- touching digits -------------------------------------------------------------------------

SPLIT_ASPECT = 0.85  # a box at least this wide for its height may be touching digits
NARROW_SPLIT_ASPECT = 0.6  # ...and from this wide, two narrow ones ("11", "17"): fewer cuts
MAX_PARTS = 4


def split_candidates(ink: np.ndarray, box: Box) -> list[tuple[Box, ...]]:
    """Ways to cut a wide ``box`` (ink pixels) into 2..MAX_PARTS digits side by side.

    Cuts go through minima of the column ink profile near the evenly spaced positions; for two
    parts the three deepest minima of the middle are each tried. Each part is shrunk to its own
    ink. The classifier scores the readings (see ``recognise_service``); none is chosen here.
    A box between ``NARROW_SPLIT_ASPECT`` and ``SPLIT_ASPECT`` only gets the deepest minimum
    near the middle (two narrow digits such as "11"). Returns [] for a box that is not wide
    enough to hold two digits.
    """
    w, h = box.width, box.height
    if h < MIN_HEIGHT or w < NARROW_SPLIT_ASPECT * h:
        return []
    crop = ink[box.y0 : box.y1, box.x0 : box.x1]
    profile = _inky(crop).sum(axis=0).astype(np.float32)
    profile = np.convolve(profile, np.ones(3, np.float32) / 3.0, mode="same")
    if w < SPLIT_ASPECT * h:
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


def _inky(ink: np.ndarray) -> np.ndarray:
    """Where an ink map (uint8 or float) is surely ink."""
    return ink > (MASK_U8 if ink.dtype == np.uint8 else MASK_LEVEL)


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
        seg = profile[lo:hi]
        if seg.size >= 3:
            # local minima of the middle half, deepest first
            is_min = np.r_[True, seg[1:] <= seg[:-1]] & np.r_[seg[:-1] <= seg[1:], True]
            idx = np.flatnonzero(is_min)
            idx = idx[np.argsort(seg[idx], kind="stable")]
            for i in idx[:2]:
                c = lo + int(i)
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
