"""Components to digit candidate boxes: strokes of one digit grouped, non-digits dropped."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from digitpad.segment.creases import drop_crease_sticks
from digitpad.segment.ink import LOW_U8
from digitpad.segment.stats import percentile_sorted
from digitpad.types import Box

MIN_AREA = 6  # components smaller than this (work pixels) are specks
MIN_HEIGHT = 7  # a digit is at least this tall in work pixels
# a dash or an underline: at least DASH_ASPECT times as wide as it is high, and thinner than
# DASH_MAX_HEIGHT of the page's typical digit height
DASH_ASPECT = 3.0
DASH_MAX_HEIGHT = 0.45
# a flat stroke wider than FLAT_WIDER x the part it would join is never a stroke of that digit
# (see _flat_and_wider)
FLAT_WIDER = 1.25
# the stem of a 9 drawn apart from its loop stands at most this much of its height clear of it
STEM_GAP = 0.08
# A part spanning more than HUGE_PART typical digit heights is no stroke of a digit of the
# page's size: a fold or a streak, what the ruling finder leaves of a ring drawn round a number,
# a line struck through one, or a digit written huge among small ones. A digit-sized part inside
# its box joined it and went with it when the whole was dropped as no digit (a ringed "31415"
# read "141"; see _digit_by_line); so did one just outside it, above a fold that passed under
# its number (the merge allows a gap of 0.3 of the taller part's height, and a fold's is
# hundreds of pixels), and the underline remover took a huge digit's flat strokes (see
# digitpad.segment.lines.remove_underlines).
HUGE_PART = 3.0
# a digit of the page's size is this many typical heights tall, from the least to the most
PAGE_SIZED = (0.5, 2.0)
# a huge part is a line (a fold, a ring, a stroke) when its ink in the box, per pixel of its
# long side, is at most LINE_INK typical digit heights (a fold 0.2, a ring round a number with
# the number's own ink counted 0.6; a noisy page's blob of grain 5, a huge 9's loop 1)
LINE_INK = 0.75
# A component whose hole holds another at least this share of its height (and a digit's least
# height, and more than a pixel wide) is a ring drawn round it: no digit's loop holds a digit,
# only specks, grain and slivers.
RING_HOLDS = 0.3
# A component at least this tall or wide (work pixels) is not dropped as a speck, however big
# the page's other digits (a solid dot still is a dot): a small digit written beside big ones
# ("2026" at 300 px, a "5" at 48 px) is under SPECK of their typical height, and a pen's speck
# is a few pixels at any size.
SMALL_DIGIT_PX = 24
SPECK = 0.18  # ...a component under this share of the typical height otherwise is one


def find_boxes(
    mask: np.ndarray,
    raw: list[list[int]] | None = None,
    *,
    enclosed: bool = True,
    small_digits: bool = True,
) -> list[Box]:
    """Digit candidate boxes (in ``mask`` pixels) from a binary ink mask: components, strokes
    of one digit merged, specks, dots, dashes, underlines and the sticks of a fold dropped
    (see :func:`digitpad.segment.creases.drop_crease_sticks`).

    ``raw`` is ``raw_boxes(mask, enclosed=enclosed)`` when the caller already has it (it is
    not modified). ``enclosed`` as for :func:`digitpad.segment.segment`. With
    ``small_digits``, components of ``SMALL_DIGIT_PX`` or more are not dropped as specks (see
    :func:`_plausible`).
    """
    h, w = mask.shape
    if raw is None:
        raw = raw_boxes(mask.astype(np.uint8), enclosed=enclosed)
    boxes = [b for b in raw if not _border_sliver(b, w, h)]
    if not boxes:
        return []
    boxes = merge_strokes(boxes, typical_height(boxes), enclosed=enclosed)
    typical = typical_height(boxes)
    least = SMALL_DIGIT_PX if small_digits else None
    out = [Box(b[0], b[1], b[2], b[3]) for b in boxes if _plausible(b, typical, least)]
    out.sort(key=lambda b: (b.y0, b.x0))
    return drop_crease_sticks(mask, out, typical)


# a 3x3 dilation joins ink up to two pixels of paper apart (8-connected)
_TWO_PIXEL_GAP = np.ones((3, 3), np.uint8)
# a window's margin beyond the reach: the slack of "holds", and the two pixels a loose
# component bridges (ink that near the window's edge counts as cut off by it)
_WINDOW_MARGIN = 3


def loose_boxes(ink: np.ndarray, around: Sequence[Box], reach: tuple[int, int]) -> np.ndarray:
    """Boxes (``ink`` pixels; an int32 array (N, 4) of x0, y0, x1, y1, no two alike) of the ink
    over ``LOW_U8`` grouped loosely, near the boxes ``around``: specks up to two pixels apart
    are one component, and specks are kept.

    Grainy pencil breaks into specks along a stroke, and the segmenter's mask drops them, so a
    faint digit may leave one fragment or none behind. These boxes hold the whole stroke; the
    recogniser reads one only where it holds fragments read "not a digit" (see
    :func:`digitpad.fragments.speck_unions`), so they never propose boxes themselves.

    Only the components near a box of ``around`` are looked at, in a window reaching
    ``reach`` (x, y pixels) and a margin beyond it, each box's on its own. A component with
    ink within two pixels of a window's edge inside the page may go on outside it (through
    specks the window does not see) and is left out. So every component that holds a box of
    ``around`` (a pixel's slack) and spans at most ``reach`` is found as the whole page would
    give it, at the cost of one window per box of ``around``, not of the page.
    """
    h, w = ink.shape
    rx, ry = reach[0] + _WINDOW_MARGIN, reach[1] + _WINDOW_MARGIN
    found = [np.empty((0, 4), np.int32)]
    for b in around:
        x0, y0 = max(0, b.x0 - rx), max(0, b.y0 - ry)
        x1, y1 = min(w, b.x1 + rx), min(h, b.y1 + ry)
        found.append(_window_components(ink[y0:y1, x0:x1], x0, y0, (w, h)))
    return np.unique(np.concatenate(found), axis=0)


def _window_components(window: np.ndarray, ox: int, oy: int, page: tuple[int, int]) -> np.ndarray:
    """The loose components (see :func:`loose_boxes`) of an ink ``window`` placed at ``ox``,
    ``oy`` on a page of size ``page`` (w, h), as ink boxes in page pixels, but those with ink
    within two pixels of an edge of the window inside the page."""
    # a pixel of paper around the window, so the dilation is never cut off at its edge
    inky = np.pad(window > LOW_U8, 1).view(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(inky, _TWO_PIXEL_GAP), connectivity=8
    )
    # the dilated box, less the pixel it grew a side, less the pad: the ink's own box
    x0, y0 = stats[1:, 0], stats[1:, 1]
    x1, y1 = x0 + stats[1:, 2] - 2, y0 + stats[1:, 3] - 2
    wh, ww = window.shape
    w, h = page
    # the gap a loose component bridges is two pixels: ink that near the edge may join ink
    # beyond it
    cut = (
        ((x0 <= 2) & (ox > 0))
        | ((y0 <= 2) & (oy > 0))
        | ((x1 >= ww - 2) & (ox + ww < w))
        | ((y1 >= wh - 2) & (oy + wh < h))
    )
    out = np.stack([x0 + ox, y0 + oy, x1 + ox, y1 + oy], axis=1)
    return out[~cut].astype(np.int32)


def raw_boxes(m8: np.ndarray, *, enclosed: bool = True) -> list[list[int]]:
    """``[x0, y0, x1, y1, ink pixels in the box]`` of every component larger than a speck.

    With ``enclosed`` that includes the components inside another's hole, and a component
    whose hole holds one at least ``RING_HOLDS`` of its height (and ``MIN_HEIGHT``, and more
    than a pixel wide) is left out: a ring drawn round a number or a digit. Without, only the
    outermost components, and a ring hides what it holds.
    """
    return raw_and_ring_boxes(m8, enclosed=enclosed)[0]


def raw_and_ring_boxes(
    m8: np.ndarray, *, enclosed: bool = True
) -> tuple[list[list[int]], list[list[int]]]:
    """:func:`raw_boxes`, and the rings it leaves out in the same form (none without
    ``enclosed``): a form's printed boxes holding their digits are such rings."""
    # outer contours give the components' boxes far faster than labelling every pixel
    if not enclosed:
        contours, _ = cv2.findContours(m8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return _component_boxes(m8, [cv2.boundingRect(c) for c in contours]), []
    # the full tree: a component's outer boundary is at an even depth, a hole's at an odd one
    contours, hierarchy = cv2.findContours(m8, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return [], []
    parent = hierarchy[0][:, 3]
    inner = np.flatnonzero(parent >= 0)
    if not (parent[parent[inner]] >= 0).any():  # no hole holds anything: the usual page
        rects = [cv2.boundingRect(contours[i]) for i in np.flatnonzero(parent < 0)]
        return _component_boxes(m8, rects), []
    depth = _depths(parent)
    outer = np.flatnonzero(depth % 2 == 0)
    rects = {int(i): cv2.boundingRect(contours[i]) for i in outer}
    rings = set()
    for i in outer[depth[outer] >= 2]:
        ring = int(parent[parent[i]])
        _, _, held_w, held_h = rects[int(i)]
        # one pixel thin is a sliver of grain, as for _plausible, not a digit held
        if held_w > 1 and held_h >= max(MIN_HEIGHT, RING_HOLDS * rects[ring][3]):
            rings.add(ring)
    kept = _component_boxes(m8, [r for i, r in rects.items() if i not in rings])
    return kept, _component_boxes(m8, [rects[i] for i in sorted(rings)])


def _depths(parent: np.ndarray) -> np.ndarray:
    """The depth of every contour in a ``RETR_TREE`` hierarchy given by its ``parent`` column:
    all contours climb one level per step, as many steps as the tree is deep."""
    depth = np.zeros(len(parent), np.int64)
    up = parent.copy()
    while (climbing := up >= 0).any():
        depth[climbing] += 1
        up[climbing] = parent[up[climbing]]
    return depth


def _component_boxes(m8: np.ndarray, rects: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """``[x0, y0, x1, y1, ink pixels in the box]`` of the bounding ``rects`` (x, y, w, h) of
    components, those of a speck left out."""
    boxes = []
    for x, y, bw, bh in rects:
        if bw * bh < MIN_AREA:
            continue
        area = int(np.count_nonzero(m8[y : y + bh, x : x + bw]))
        if area >= MIN_AREA:
            boxes.append([x, y, x + bw, y + bh, area])
    return boxes


def merge_strokes(
    boxes: list[list[int]], typical: float = 0.0, *, enclosed: bool = True
) -> list[list[int]]:
    """Merge components that belong to one digit: strong x overlap, small vertical gap.

    Boxes are ``[x0, y0, x1, y1, area]``. Repeats until nothing merges (a digit in three
    strokes merges in two rounds). The merged box may not grow much taller than its tallest part
    or than the page's ``typical`` digit height, so digits of two rows never merge, but the two
    halves of a faint digit broken across its middle do. A flat stroke much wider than the part
    it would join (an underline below a number, touching none of its digits) joins nothing.
    The loop and the stem of a 9 drawn in two strokes merge though they barely overlap in x
    (see :func:`_loop_and_stem`), and the base of a 1 drawn apart joins its stem though it is
    flat and wider (see :func:`_foot_of_stem`). With ``enclosed``, a huge line joins no digit
    of the page's size, inside its box or beside it (see :func:`_digit_by_line`).
    """
    boxes = [list(b) for b in boxes]
    # a 9's stem may stand up to STEM_GAP of its height clear of its loop: look that far right
    reach = 1 + int(STEM_GAP * max((b[3] - b[1] for b in boxes), default=0))
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
                if b[0] >= a[2] + reach:
                    break  # sorted by x0: nothing further right overlaps in x or is near
                if _same_digit(a, b, typical) and not (
                    enclosed and (_digit_by_line(a, b, typical) or _digit_by_line(b, a, typical))
                ):
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
        return _loop_and_stem(a, b) or _loop_and_stem(b, a)
    if _flat_and_wider(wa, ha, wb) and not _foot_of_stem(a, b):
        return False
    if _flat_and_wider(wb, hb, wa) and not _foot_of_stem(b, a):
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


def _digit_by_line(big: list[int], small: list[int], typical: float) -> bool:
    """``big`` is a line (see ``LINE_INK``) spanning over ``HUGE_PART`` typical digit heights
    and ``small`` is a digit of the page's size: half to twice a typical height tall, not flat.
    Where it lies does not matter: the merge only offers parts near each other, and a line
    that long is no stroke of a digit that small, inside its box or beside it. The parts of a
    digit written huge among small ones (the loop of its 9, the flag of its 5) are far taller
    or flat, and still join it, and so does the grain of a noisy page."""
    bw, bh = big[2] - big[0], big[3] - big[1]
    sw, sh = small[2] - small[0], small[3] - small[1]
    if typical <= 0 or max(bw, bh) <= HUGE_PART * typical:
        return False
    if big[4] > LINE_INK * typical * max(bw, bh):
        return False  # a blob or texture (grain, noise, a huge digit's part), not a line
    return PAGE_SIZED[0] * typical <= sh <= PAGE_SIZED[1] * typical and sw < 2 * sh


def _flat_and_wider(w: int, h: int, w_other: int) -> bool:
    """A flat stroke (a dash or an underline) reaching well past the part it would join: the
    flag of a 5 or the bar of a 7 is about as wide as its digit, an underline spans several."""
    return w >= DASH_ASPECT * h and w > FLAT_WIDER * w_other


def _border_sliver(b: list[int], width: int, height: int) -> bool:
    """A thin piece cut off by the page edge: the end of a ruling, or the edge of the paper."""
    bw, bh = b[2] - b[0], b[3] - b[1]
    at_edge = b[0] == 0 or b[1] == 0 or b[2] == width or b[3] == height
    return at_edge and (bw <= 0.15 * bh or bh <= 0.15 * bw)


def typical_height(boxes: list[list[int]]) -> float:
    """The page's typical digit height: a high-ish median of the taller components.

    Stubs with less than three ink pixels per pixel of height (a one-pixel stick, a small
    cross of ruling ink, specks of a faint grid) count only when nothing else does: on a page
    full of them they would make the typical digit as small as they are, and nothing would
    pass for a digit's stroke.
    """
    tall = [b for b in boxes if b[3] - b[1] >= MIN_HEIGHT]
    hs = sorted(b[3] - b[1] for b in tall if b[4] >= 3 * (b[3] - b[1]))
    if not hs:
        hs = sorted(b[3] - b[1] for b in tall)
    if not hs:
        return float(MIN_HEIGHT)
    return float(percentile_sorted(np.array(hs, np.float32), 60.0))


def _plausible(b: list[int], typical: float, least: int | None = None) -> bool:
    """Reject specks, dots, dashes and underlines; keep anything digit-like for the classifier.
    A component ``least`` pixels tall or wide is not dropped as a speck, only as a solid dot
    (None: any size can be a speck)."""
    w, h = b[2] - b[0], b[3] - b[1]
    if h < MIN_HEIGHT and w < MIN_HEIGHT * 2:
        return False
    if min(w, h) <= 1:
        return False  # one pixel thin: a sliver of a ruling, not a pen stroke
    fill = b[4] / max(1, w * h)
    speck = max(w, h) < SPECK * typical and (least is None or max(w, h) < least)
    if speck or (max(w, h) < 0.3 * typical and fill > 0.65):
        return False  # a dot or speck beside digits of normal size (solid, unlike strokes)
    if w > DASH_ASPECT * h and h < DASH_MAX_HEIGHT * typical:
        return False  # dash or underline
    return b[4] >= 0.015 * w * h or max(w, h) < 3 * typical


def _loop_and_stem(loop: list[int], stem: list[int]) -> bool:
    """A 9 drawn in two strokes: a loop in the top part of a tall upright stem, at its left,
    the stem at most ``STEM_GAP`` of its height clear of the loop or overlapping its right
    half. Side by side digits never look like this: a digit beside a "1" is as tall as it.
    (Analysis pages 9.2-9.5 M: mean exact 75.25 -> 75.5 %, no set worse.)"""
    sh, sw = stem[3] - stem[1], stem[2] - stem[0]
    lh = loop[3] - loop[1]
    if sw > 0.4 * sh or not 0.3 * sh <= lh <= 0.7 * sh:
        return False
    if stem[0] - loop[2] > STEM_GAP * sh or stem[0] < (loop[0] + loop[2]) / 2:
        return False
    return loop[1] >= stem[1] - 0.15 * sh and loop[3] <= stem[1] + 0.75 * sh


def _foot_of_stem(foot: list[int], stem: list[int]) -> bool:
    """The base stroke of a "1" drawn apart from its stem: flat, at most as wide as the upright
    stem is tall, right at the stem's foot (a few pixels clear at most) and under it.

    Without it the base was a dash wider than the stem: it joined nothing and was dropped, and
    the 1's box lost its bottom (analysis pages 9.2-9.5 M: 75.5 -> 75.625 %, three pages with
    fewer errors, none with more). An underline below a lone digit stands further off.
    """
    sh, sw = stem[3] - stem[1], stem[2] - stem[0]
    if sw > 0.6 * sh or foot[2] - foot[0] > sh:
        return False
    mid_x, mid_y = (stem[0] + stem[2]) / 2, (foot[1] + foot[3]) / 2
    return (
        foot[0] <= mid_x <= foot[2]
        and mid_y >= stem[3] - 0.2 * sh
        and foot[1] <= stem[3] + max(2, 0.05 * sh)
    )
