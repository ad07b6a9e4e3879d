"""Faint digits broken into fragments, put back together when the classifier reads them whole.

Faint pencil fades along a stroke: the segmenter's mask keeps the darker stretches of a "2"
(its top arc, the foot) and loses the diagonal between them. Each fragment alone reads "not a
digit" and is dropped, and the digit is lost. Grouping them in the segmenter would need a
reach that also joins the digits of a row; here the classifier judges instead: neighbouring
fragments whose union is the size of the page's digits are read together once, and the union
replaces them when it reads as one digit at least ``UNION_SURE``. The size of a digit comes
from the boxes of the page read as digits, so a page whose only ink is one broken digit gets no
union.

Grainy pencil breaks further, into specks the mask drops, and may leave a single fragment of
a digit, or fragments whose union misses most of the stroke. So the fragments are also read
with the specks around them (:func:`speck_unions`, from the segmenter's
:func:`~digitpad.segment.loose_boxes`), more surely (``SPECKS_SURE``).

A digit drawn in two strokes that do not touch is two components too, when neither stands
over the other: a 4 whose bar stops short of its stem is an arm and a "1". The pair is read
together (:func:`arm_unions`) and taken when it reads another digit than the stem alone
(``ARM_SURE``). Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from digitpad.context import SURE
from digitpad.groups import connected_groups
from digitpad.types import NOT_DIGIT_INDEX, NOT_DIGIT_LEVEL, Box

# A fragment: a box read "not a digit" (NOT_DIGIT_LEVEL) and shorter than this share of the
# page's typical digit. Lowercase letters are fragments too: a word's letters chain into a
# union wider than a digit, and one a union would wrongly join is still read by the classifier.
FRAGMENT_MAX_HEIGHT = 0.9
# Fragments within this share of the typical digit height of each other are neighbours.
FRAGMENT_REACH = 0.3
# A union is digit-sized: its height within these shares of the typical digit's, its width
# at most MAX_WIDTH of the typical height (a digit is taller than wide).
UNION_MIN_HEIGHT = 0.6
UNION_MAX_HEIGHT = 1.3
UNION_MAX_WIDTH = 1.0
# A union replaces its fragments when read as one digit at least this surely. Not 0.9: the
# union of a broken digit still holds its gaps and often reads about 0.7 (400 fresh pages: 0.9
# took 2 unions, 0.6 two more, read 0.71 and 0.76 as their true digits; on 800 pages 0.6 took
# 6, each on a true digit with its label).
UNION_SURE = 0.6
# A union holding half or more of another box (a digit between two marks) is no digit's.
UNION_OVER_OTHER = 0.5
# A fragment with its specks replaces what it holds when read as one digit at least this
# surely: specks are weaker evidence than the mask's strokes, and grain, letters and the
# remains of rulings gathered with them read as a digit about 0.7 (fresh pages 9.6-9.9 M: at
# 0.6, 13 of the 19 taken were true digits; at 0.85 none of the 2,400 pages measured reads
# worse; see benchmarks/HISTORY.md).
SPECKS_SURE = 0.85
# ...and it is at least this share of the typical height wide: a lone line of specks (a
# ruling's remains, the grain beside a stroke) reads as a "1" far more often than a faint 1
# is lost.
SPECKS_MIN_WIDTH = 0.15
# An arm and the upright stem at its right are one digit drawn in two strokes (an open 4 drawn
# on the canvas, its bar stopping short of the stem: the segmenter only joins strokes that
# overlap across, or a 9's loop beside its stem) when the union reads a digit other than the
# stem's own reading at least ARM_SURE. The arm is no sure digit (under the context stage's
# SURE), at least ARM_MIN_HEIGHT of the union's height, its right end at most ARM_GAP of that
# height short of the stem, and its foot at least ARM_ABOVE of it above the stem's foot but
# below the top fifth of the stem: a digit beside a "1" stands on the same baseline, a quote
# mark is shorter, a dash flat. A canvas probe of open 4s (bars 12 and 20 px short of a 140 px
# stem) read 4 on 29 of 32 pages, 16 before; the fresh pages read as before (4 pairs offered
# on 1,600 pages, one taken: a faint 9's loop and stem); marks before a "1" (quotes, crosses,
# dashes, letters, commas; 300 pages) were offered 35 pairs by a looser first version (arms
# of 0.3, any reading of the union) and none was taken.
ARM_GAP = 0.15
ARM_MIN_HEIGHT = 0.4
ARM_ABOVE = 0.2
ARM_SURE = 0.8


def fragment_unions(boxes: list[Box], probs: np.ndarray) -> list[tuple[Box, tuple[int, ...]]]:
    """Digit-sized unions of neighbouring fragments, each with the indices of its fragments
    into ``boxes`` (see the module's constants). No box is in two unions, and no union holds
    half of a box that is not one of its fragments, or equals one.

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    if len(boxes) != len(probs):
        raise ValueError(f"{len(boxes)} boxes but {len(probs)} rows of probabilities")
    not_digit = probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL
    # most pages have at most one box read "not a digit": nothing to join, nothing to build
    if np.count_nonzero(not_digit) < 2 or not_digit.all():
        return []
    xy = np.array([b.as_tuple() for b in boxes], np.float32)
    heights = xy[:, 3] - xy[:, 1]
    # the page's digit height: the median of the boxes read as digits
    typical = float(np.median(heights[~not_digit]))
    frag = np.flatnonzero(not_digit & (heights < FRAGMENT_MAX_HEIGHT * typical))
    out = []
    for group in _neighbour_groups(xy[frag], FRAGMENT_REACH * typical):
        members = frag[group]
        x0, y0 = xy[members, :2].min(axis=0)
        x1, y1 = xy[members, 2:].max(axis=0)
        union = Box(int(x0), int(y0), int(x1), int(y1))
        if (
            UNION_MIN_HEIGHT * typical <= union.height <= UNION_MAX_HEIGHT * typical
            and union.width <= UNION_MAX_WIDTH * typical
            and not _holds_another(xy, union, members)
        ):
            out.append((union, tuple(int(i) for i in members)))
    return out


def sure_unions(unions: list[tuple[Box, tuple[int, ...]]], probs: np.ndarray) -> list[int]:
    """Indices of the ``unions`` whose reading (``probs`` (N, 11), one row each) is one digit
    at least ``UNION_SURE``."""
    return [k for k in range(len(unions)) if probs[k, :NOT_DIGIT_INDEX].max() >= UNION_SURE]


def join_fragments(
    boxes: list[Box], probs: np.ndarray, read: Callable[[list[Box]], np.ndarray]
) -> tuple[list[Box], np.ndarray, frozenset[Box]]:
    """``boxes`` and their ``probs`` with the fragments of broken faint digits replaced by
    their union where ``read`` reads the union as one digit (see :func:`fragment_unions` and
    :func:`sure_unions`), and the unions taken. The kept boxes stay in their order, the unions
    follow. Unchanged, and ``read`` not called, when there is no union to try."""
    unions = fragment_unions(boxes, probs)
    if not unions:
        return boxes, probs, frozenset()
    union_probs = read([u for u, _ in unions])
    return _replaced(boxes, probs, unions, union_probs, sure_unions(unions, union_probs))


def _replaced(
    boxes: list[Box],
    probs: np.ndarray,
    unions: list[tuple[Box, tuple[int, ...]]],
    union_probs: np.ndarray,
    sure: list[int],
) -> tuple[list[Box], np.ndarray, frozenset[Box]]:
    """``boxes`` and ``probs`` without the members of the ``sure`` unions, those unions after
    them with their rows of ``union_probs``, and the unions taken."""
    if not sure:
        return boxes, probs, frozenset()
    gone = {i for k in sure for i in unions[k][1]}
    keep = [i for i in range(len(boxes)) if i not in gone]
    taken = [unions[k][0] for k in sure]
    out = [boxes[i] for i in keep] + taken
    return out, np.concatenate([probs[keep], union_probs[sure]]), frozenset(taken)


def _holds_another(xy: np.ndarray, union: Box, members: np.ndarray) -> bool:
    """Whether ``union`` holds ``UNION_OVER_OTHER`` or more of a box of ``xy`` (N, 4) that is
    not one of ``members``: read as one digit, it would report that box's ink twice."""
    others = np.ones(len(xy), bool)
    others[members] = False
    o = xy[others]
    ix = np.minimum(o[:, 2], union.x1) - np.maximum(o[:, 0], union.x0)
    iy = np.minimum(o[:, 3], union.y1) - np.maximum(o[:, 1], union.y0)
    inside = np.maximum(ix, 0) * np.maximum(iy, 0)
    area = np.maximum((o[:, 2] - o[:, 0]) * (o[:, 3] - o[:, 1]), 1)
    return bool((inside >= UNION_OVER_OTHER * area).any())


def _neighbour_groups(xy: np.ndarray, reach: float) -> list[np.ndarray]:
    """Indices (ascending) of the boxes ``xy`` (N, 4) chained by neighbours, two or more to a
    group: boxes whose gap, across and down, is at most ``reach``. Every pair is compared, 512
    rows at a time: a page of text has hundreds of fragments, a hatched page thousands."""
    # 512 rows at a time: the float gaps of every pair at once would need gigabytes on a page
    # of thousands of marks
    near = np.zeros((len(xy), len(xy)), bool)
    for lo in range(0, len(xy), 512):
        a = xy[lo : lo + 512, None]
        gap_x = np.maximum(xy[None, :, 0] - a[..., 2], a[..., 0] - xy[None, :, 2])
        gap_y = np.maximum(xy[None, :, 1] - a[..., 3], a[..., 1] - xy[None, :, 3])
        near[lo : lo + 512] = (gap_x <= reach) & (gap_y <= reach)  # a box neighbours itself
    linked = np.flatnonzero(near.sum(axis=1) > 1)
    groups = connected_groups(near[np.ix_(linked, linked)])
    return [np.sort(linked[g]) for g in groups]


def speck_unions(
    boxes: list[Box], probs: np.ndarray, loose: np.ndarray
) -> list[tuple[Box, tuple[int, ...]]]:
    """The ``loose`` boxes (an array (N, 4) of x0, y0, x1, y1, see
    :func:`~digitpad.segment.loose_boxes`) worth reading as one digit, each with the indices
    into ``boxes`` of the fragments it holds: boxes read "not a digit" lying within it (a
    pixel's slack). A loose box qualifies when it holds at least one fragment, is digit-sized
    (the height bounds of a union, at least ``SPECKS_MIN_WIDTH`` and at most
    ``UNION_MAX_WIDTH`` of the typical height wide), is not one of ``boxes``, and neither
    overlaps a box read as a digit (IoU over 0.1: that digit is found already) nor holds half
    of one. The page needs three boxes read as digits to know its digits' size; with fewer
    there is nothing to offer.

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    not_digit, typical = _read_as(boxes, probs)
    if typical is None or len(loose) == 0:
        return []
    digits = [b for b, nd in zip(boxes, not_digit, strict=True) if not nd]
    digit_xy = np.array([b.as_tuple() for b in digits], np.float32)
    lw, lh = loose[:, 2] - loose[:, 0], loose[:, 3] - loose[:, 1]
    sized = loose[
        (lh >= UNION_MIN_HEIGHT * typical)
        & (lh <= UNION_MAX_HEIGHT * typical)
        & (lw >= SPECKS_MIN_WIDTH * typical)
        & (lw <= UNION_MAX_WIDTH * typical)
    ]
    fragments = np.flatnonzero(not_digit).tolist()
    known = set(boxes)
    out = []
    for row in sized.tolist():
        union = Box(*row)
        held = tuple(i for i in fragments if _within(boxes[i], union))
        if not held or union in known or any(union.iou(d) > 0.1 for d in digits):
            continue
        if not _holds_another(digit_xy, union, np.empty(0, np.int64)):
            out.append((union, held))
    return out


def join_specks(
    boxes: list[Box],
    probs: np.ndarray,
    read: Callable[[list[Box]], np.ndarray],
    loose: Callable[[list[Box], tuple[int, int]], np.ndarray],
) -> tuple[list[Box], np.ndarray, frozenset[Box]]:
    """``boxes`` and their ``probs`` with the fragments a loose box holds replaced by it where
    ``read`` reads it as one digit at least ``SPECKS_SURE`` (see :func:`speck_unions`), and the
    loose boxes taken. ``loose(fragments, reach)`` gives the loose boxes (as ``speck_unions``
    takes them) that may hold one of ``fragments`` and span up to ``reach`` (x, y pixels), as
    :func:`~digitpad.segment.loose_boxes` does; it is called only when some box is read "not
    a digit" and three are read as digits, with the fragments small enough to be held, and
    ``read`` only when a loose box qualifies. Of sure loose boxes that share a fragment or
    overlap, only the surest is taken. The kept boxes stay in their order, the loose ones
    follow.

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    not_digit, typical = _read_as(boxes, probs)
    if typical is None:
        return boxes, probs, frozenset()
    # a loose box wider or taller than a union may be is never offered: look no further
    rx, ry = math.ceil(UNION_MAX_WIDTH * typical), math.ceil(UNION_MAX_HEIGHT * typical)
    # nor can it hold a box bigger than itself (a pixel's slack a side): a rule, a border,
    # a scribble would cost a window the size of the page for nothing
    small = [
        boxes[i]
        for i in np.flatnonzero(not_digit)
        if boxes[i].width <= rx + 2 and boxes[i].height <= ry + 2
    ]
    unions = speck_unions(boxes, probs, loose(small, (rx, ry))) if small else []
    if not unions:
        return boxes, probs, frozenset()
    union_probs = read([u for u, _ in unions])
    return _replaced(boxes, probs, unions, union_probs, _surest_apart(unions, union_probs))


def _surest_apart(unions: list[tuple[Box, tuple[int, ...]]], probs: np.ndarray) -> list[int]:
    """Indices (ascending) of the ``unions`` read as one digit at least ``SPECKS_SURE``
    (``probs``, a row each), surest first, leaving out any that shares a fragment with one
    taken or overlaps it (IoU over 0.1, or half of either inside the other): the boxes of
    two components may cross or nest, and no ink is reported twice."""
    digit = probs[:, :NOT_DIGIT_INDEX].max(axis=1)
    taken: list[int] = []
    for k in np.argsort(-digit, kind="stable").tolist():
        box, held = unions[k]
        if digit[k] < SPECKS_SURE:
            break
        if all(
            set(held).isdisjoint(unions[t][1]) and not _overlap(box, unions[t][0]) for t in taken
        ):
            taken.append(k)
    return sorted(taken)


def _overlap(a: Box, b: Box) -> bool:
    """IoU over 0.1, or half of the smaller box inside the larger."""
    return a.iou(b) > 0.1 or a.overlap(b) >= 0.5 * min(a.area, b.area)


def _read_as(boxes: list[Box], probs: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Which ``boxes`` are read "not a digit" (by ``probs``), and the page's digit height: the
    median of the boxes read as digits, when some box is read "not a digit" and at least three
    as digits, else None (fewer digits tell too little of their size, and with no fragment
    there is nothing to join).

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    if len(boxes) != len(probs):
        raise ValueError(f"{len(boxes)} boxes but {len(probs)} rows of probabilities")
    not_digit = probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL
    if not not_digit.any() or np.count_nonzero(~not_digit) < 3:
        return not_digit, None
    heights = [b.height for b, nd in zip(boxes, not_digit, strict=True) if not nd]
    return not_digit, float(np.median(heights))


def _within(inner: Box, outer: Box) -> bool:
    """Whether ``inner`` lies inside ``outer``, give or take a pixel a side."""
    return (
        inner.x0 >= outer.x0 - 1
        and inner.y0 >= outer.y0 - 1
        and inner.x1 <= outer.x1 + 1
        and inner.y1 <= outer.y1 + 1
    )


def arm_unions(boxes: list[Box], probs: np.ndarray) -> list[tuple[Box, tuple[int, ...]]]:
    """The unions of an arm and the upright stem at its right worth reading as one digit (see
    ``ARM_GAP`` and the constants beside it), each with the indices into ``boxes`` of its arm
    and its stem. A stem (at most 0.4 of its height wide) takes the nearest arm; an arm two
    stems would take goes to the nearer; a stem that is itself some stem's arm takes none; no
    union holds half of another box.

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    if len(boxes) != len(probs):
        raise ValueError(f"{len(boxes)} boxes but {len(probs)} rows of probabilities")
    arms = np.flatnonzero(
        (probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL)
        | (probs[:, :NOT_DIGIT_INDEX].max(axis=1) < SURE)
    )
    if arms.size == 0:  # most pages: every box a sure digit
        return []
    xy = np.array([b.as_tuple() for b in boxes], np.float32).reshape(-1, 4)
    stems = np.flatnonzero(xy[:, 2] - xy[:, 0] <= 0.4 * (xy[:, 3] - xy[:, 1]))
    if stems.size == 0:
        return []
    a, s = xy[arms][None, :, :], xy[stems][:, None, :]  # (stems, arms) pairs at once
    tall = np.maximum(a[..., 3], s[..., 3]) - np.minimum(a[..., 1], s[..., 1])  # the union's
    gap = s[..., 0] - a[..., 2]
    ok = (
        (a[..., 0] < s[..., 0])
        & (a[..., 2] <= s[..., 2])
        & (gap <= ARM_GAP * tall)
        & (a[..., 3] - a[..., 1] >= ARM_MIN_HEIGHT * tall)
        & (s[..., 3] - a[..., 3] >= ARM_ABOVE * tall)
        & (a[..., 3] >= s[..., 1] + 0.2 * (s[..., 3] - s[..., 1]))
        & (s[..., 2] - a[..., 0] <= tall)  # a digit's union is no wider than tall
        & (stems[:, None] != arms[None, :])
    )
    best: dict[int, tuple[float, int]] = {}  # arm -> (gap, stem)
    for i, j in zip(*np.nonzero(ok), strict=True):
        arm, stem, g = int(arms[j]), int(stems[i]), float(gap[i, j])
        if arm not in best or g < best[arm][0]:
            best[arm] = (g, stem)
    nearest: dict[int, tuple[float, int]] = {}  # stem -> (gap, arm): its nearest free arm
    for arm, (g, stem) in best.items():
        if stem not in best and (stem not in nearest or g < nearest[stem][0]):
            nearest[stem] = (g, arm)
    out = []
    for stem, (_, arm) in sorted(nearest.items(), key=lambda kv: kv[1][1]):
        members = np.array([arm, stem])
        lo, hi = xy[members, :2].min(axis=0), xy[members, 2:].max(axis=0)
        union = Box(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        if not _holds_another(xy, union, members):
            out.append((union, (arm, stem)))
    return out


def join_arms(
    boxes: list[Box], probs: np.ndarray, read: Callable[[list[Box]], np.ndarray]
) -> tuple[list[Box], np.ndarray, frozenset[Box]]:
    """``boxes`` and their ``probs`` with an arm and its stem replaced by their union where
    ``read`` reads it as a digit other than the stem's, at least ``ARM_SURE`` (see
    :func:`arm_unions`), and the unions taken. The kept boxes stay in their order, the unions
    follow. Unchanged, and ``read`` not called, when no pair qualifies.

    Raises:
        ValueError: ``boxes`` and ``probs`` differ in length.
    """
    unions = arm_unions(boxes, probs)
    if not unions:
        return boxes, probs, frozenset()
    union_probs = read([u for u, _ in unions])
    digit = union_probs[:, :NOT_DIGIT_INDEX].argmax(axis=1)
    sure = [
        k
        for k, (_, (_, stem)) in enumerate(unions)
        if union_probs[k, digit[k]] >= ARM_SURE
        and union_probs[k, NOT_DIGIT_INDEX] < NOT_DIGIT_LEVEL
        and digit[k] != int(probs[stem, :NOT_DIGIT_INDEX].argmax())
    ]
    return _replaced(boxes, probs, unions, union_probs, sure)
