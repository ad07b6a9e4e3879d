"""Segmentation: from an RGB page to an ink map and candidate digit boxes (OpenCV only).

The pipeline, in order:

1. Downscale huge pages so the long side is at most ``WORK_MAX_SIDE`` (boxes are mapped back).
2. Ink map: the darkest channel (coloured ink is dark in at least one channel), polarity flipped
   for light ink on dark paper, divided by a smooth background estimate (a max filter then a
   median on a small copy) so shadows and uneven light cancel out, then stretched to [0, 1].
3. Ruled and squared-paper lines (long thin runs across much of the page) are removed, and the
   strokes they crossed are joined again. When the lines are coloured and the ink is grey
   (pencil on a blue grid), steps 2-3 are redone on the lightest channel, where the lines fade.
   A pale ruling that fades out in stretches is chained from its runs; where no ruling was
   found at all yet a box spans most of the page, the page is segmented again with rulings
   looked for in fainter ink (``FAINT_U8``).
4. Connected components; specks dropped; strokes of one digit (a 4 or 5 in two strokes) merged
   when they overlap strongly in x and are close vertically.
5. Dots, dashes and underlines are rejected by size and shape relative to their neighbours,
   and so are the sticks a fold or a streak falls into (an oblique straight line cut by the
   grid), each of which would read as a "1".

Everything the classifier has to decide (is this a letter or a digit?) is left to it: the
segmenter proposes, the classifier disposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from digitpad.segment.boxes import (
    DASH_MAX_HEIGHT,
    HUGE_PART,
    MIN_AREA,
    MIN_HEIGHT,
    SMALL_DIGIT_PX,
    find_boxes,
    loose_boxes,
    merge_strokes,
    raw_and_ring_boxes,
    raw_boxes,
    typical_height,
)
from digitpad.segment.colour import grey_ink_on_coloured_rulings
from digitpad.segment.forms import frames_among_rulings, remove_form_frames
from digitpad.segment.ink import (
    LOW_LEVEL,
    LOW_U8,
    MASK_LEVEL,
    MASK_U8,
    estimate_background,
    hysteresis,
    ink_map,
    ink_map_u8,
    is_inverted,
)
from digitpad.segment.lines import (
    FAINT_U8,
    drop_line_remnants,
    may_hold_faint_lines,
    remove_lines,
    remove_underlines,
)
from digitpad.segment.split import SPLIT_ASPECT, component_parts, split_candidates, stem_cuts
from digitpad.segment.tables import table_walls, written_across
from digitpad.types import Box

WORK_MAX_SIDE = 1600  # segmentation works at most at this long side (pixels)
# a page with no ruling found is segmented again, rulings looked for in ink over FAINT_U8
# (see segment.lines), when a box spans this share of the page's height or width
ACROSS_THE_PAGE = 0.6

__all__ = [
    "DASH_MAX_HEIGHT",
    "FAINT_U8",
    "HUGE_PART",
    "LOW_LEVEL",
    "LOW_U8",
    "MASK_LEVEL",
    "MASK_U8",
    "MIN_AREA",
    "MIN_HEIGHT",
    "SMALL_DIGIT_PX",
    "SPLIT_ASPECT",
    "WORK_MAX_SIDE",
    "Segmentation",
    "component_parts",
    "drop_line_remnants",
    "estimate_background",
    "find_boxes",
    "hysteresis",
    "ink_map",
    "ink_map_u8",
    "is_inverted",
    "loose_boxes",
    "merge_strokes",
    "remove_lines",
    "remove_underlines",
    "segment",
    "split_candidates",
    "stem_cuts",
    "typical_height",
]


@dataclass(frozen=True)
class Segmentation:
    """What the segmenter found on one page.

    ``ink_u8`` is the ink map as uint8 (255 = solid ink, 0 = paper) at ``scale`` times the
    original resolution (``scale`` is 1.0 unless the page's long side exceeds
    ``WORK_MAX_SIDE``); ``ink`` is the same as float32 in [0, 1]. ``boxes`` are in original
    pixels, sorted top-to-bottom then left-to-right; ``ink_boxes`` are the same boxes in ink-map
    pixels. ``inverted`` says the page was light ink on a dark background. ``frames`` are
    the form frames taken out of the ink (see :mod:`digitpad.segment.forms`), each its cells
    left to right, in original pixels: digits alone in neighbouring cells are one number.
    ``walls`` are a table's upright lines (see :func:`~digitpad.segment.tables.table_walls`), in
    original pixels: digits with one between them are in two cells.
    """

    ink_u8: np.ndarray
    scale: float
    boxes: list[Box]
    ink_boxes: list[Box] = field(default_factory=list)
    inverted: bool = False
    frames: list[tuple[Box, ...]] = field(default_factory=list)
    walls: list[Box] = field(default_factory=list)

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


def segment(rgb: np.ndarray, *, v1_crops: bool = False) -> Segmentation:
    """Segment an RGB uint8 page (H, W, 3) into an ink map and candidate digit boxes.

    With ``v1_crops``, the page is segmented as it was when the shipped v1 weights' training
    crops were cut, without the rules added since: training passes it, so ``make model``
    still rebuilds the crops v1 learnt from (``benchmarks/HISTORY.md``). Those rules:

    - digits lying inside a bigger mark's box are found on their own: inside a ring drawn
      round a number (a component in another's hole) and beside a fold, a line struck through
      or a ring's remains (a part over ``HUGE_PART`` digit heights joins none of them);
    - the flat strokes of a digit over ``HUGE_PART`` times the page's typical digit height
      are no underlines (see :func:`remove_underlines`);
    - a component of ``SMALL_DIGIT_PX`` or more is not dropped as a speck, however big the
      page's digits (a small digit beside big ones; a solid dot is still a dot);
    - a page at least ``FAINT_MIN_SIDE`` both ways on which no ruling was found, but a box
      spans ``ACROSS_THE_PAGE`` of it, is segmented again with rulings looked for in ink over
      ``FAINT_U8`` (a pale grid, under the mask's level for most of its length, joined its
      digits), and faint rulings are chained from their runs (see :func:`remove_lines`).

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
    ink, inverted, ink_boxes, cells, walls, ruled = _segment_work(work, v1_crops, faint=False)
    if (
        not v1_crops
        and not ruled
        and _across_the_page(ink_boxes, ink.shape)
        and may_hold_faint_lines(ink)
    ):
        # no ruling was found, yet boxes span the page: a pale grid, under the mask's level
        # for most of its length, left its darker stretches in the mask, and they joined the
        # digits they touch. Looked for again at a lower level. Not on every page without
        # rulings: there the look cut the strokes of pages a faint grid did no harm. Nor on a
        # page that look could not change (a strip; one big digit on a canvas, whose fainter
        # ink holds no line: its segmentation took 8.3 ms instead of 4.9)
        ink, inverted, ink_boxes, cells, walls, _ = _segment_work(work, v1_crops, faint=True)
    seg = Segmentation(ink_u8=ink, scale=scale, boxes=[], ink_boxes=ink_boxes, inverted=inverted)
    boxes = [seg.to_page(b, w, h) for b in ink_boxes]
    return Segmentation(
        ink_u8=ink,
        scale=scale,
        boxes=boxes,
        ink_boxes=ink_boxes,
        inverted=inverted,
        frames=[tuple(seg.to_page(b, w, h) for b in frame) for frame in cells],
        walls=[seg.to_page(b, w, h) for b in walls],
    )


def _segment_work(
    work: np.ndarray, v1_crops: bool, *, faint: bool
) -> tuple[np.ndarray, bool, list[Box], list[tuple[Box, ...]], list[Box], bool]:
    """:func:`segment` at work size: the ink map, whether it was inverted, the boxes, a form's
    cells, a table's walls (all in work pixels) and whether rulings were found: by the first
    look, in the darkest channel (a form's frame lines not counted), or a table's walls.
    ``faint``: rulings found nowhere are looked for again at a lower level (see
    :func:`remove_lines`)."""
    enclosed = not v1_crops
    forms = not v1_crops
    ink, inverted, line_mask, mask = _ink_without_lines(
        work, grey_ink=False, forms=forms, faint=faint
    )
    ruled = line_mask is not None
    if (
        line_mask is not None
        and not inverted
        and grey_ink_on_coloured_rulings(work, line_mask, mask)
    ):
        ink, inverted, line_mask, mask = _ink_without_lines(work, grey_ink=True, forms=forms)
    raw, rings = raw_and_ring_boxes(mask.view(np.uint8), enclosed=enclosed)
    # in the ink as it is before a form's lines and the rulings go from it
    walls, wall_pixels = ([], None) if v1_crops else table_walls(ink, raw, line_mask)
    if walls:
        # the rulings were looked for as on a ruled page: a tall table's columns of digits,
        # bridged to its lines across, went as upright lines (12 rows: 0 of 60 read right),
        # or the look at half size missed a black table's lines across, digits joined to
        # them, and they stayed in the ink (3 px lines: 88 of 120 rows right). Where it
        # missed them, only lines across are looked for: the walls go with the table's, and
        # a pale leaning wall, broken in the ink, led the path of its line astray through
        # the digits beside it. The ink map stays as it was
        first = (line_mask, mask, raw, rings)
        upright = line_mask is not None
        line_mask, mask = _without_lines(ink, forms=forms, tables=True, upright=upright)
        raw, rings = raw_and_ring_boxes(mask.view(np.uint8), enclosed=enclosed)
        walls, wall_pixels = table_walls(ink, raw, line_mask)
        if wall_pixels is not None and written_across(mask, wall_pixels, walls, raw):
            # a squared page's grid, its numbers written across its lines: no table
            line_mask, mask, raw, rings = first
            walls, wall_pixels = [], None
    # a table's lines found only by the table's look are rulings too: its page needs no
    # second look (which would bring back the upright lines the table's look leaves out)
    ruled = ruled or bool(walls)
    if wall_pixels is not None:
        # a wall standing alone read as a sure "1" as tall as the table, which made the
        # digits beside it marks hanging from the top of their row; a digit touching it joined
        # it. Strokes crossing it lose their pixels on it
        mask &= ~wall_pixels
        ink[wall_pixels] = 0
        raw, rings = raw_and_ring_boxes(mask.view(np.uint8), enclosed=enclosed)
    cells: list[tuple[Box, ...]] = []
    if not v1_crops:
        mask, frames, cells = remove_form_frames(mask, raw + rings, ink)
        if frames is not None:
            ink[frames & ~mask] = 0
            raw = raw_boxes(mask.view(np.uint8), enclosed=enclosed)
    mask, under = remove_underlines(mask, raw, huge_digits=not v1_crops)
    if line_mask is not None:
        ink[line_mask & ~mask] = 0
    if under is not None:
        ink[under & ~mask] = 0
    # the components found for the underline test are still those of the mask if none went
    ink_boxes = find_boxes(
        mask, raw if under is None else None, enclosed=enclosed, small_digits=not v1_crops
    )
    return ink, inverted, ink_boxes, cells, walls, ruled


def _ink_without_lines(
    work: np.ndarray, *, grey_ink: bool, forms: bool = True, faint: bool = False
) -> tuple[np.ndarray, bool, np.ndarray | None, np.ndarray]:
    """The ink map (see :func:`ink_map_u8`), whether it was inverted, the removed rulings' mask
    (None when there were none) and the ink mask without them (see :func:`_without_lines`;
    ``faint``: rulings found nowhere are looked for again at a lower level)."""
    ink, inverted = ink_map_u8(work, grey_ink=grey_ink)
    line_mask, mask = _without_lines(ink, forms=forms, faint=faint)
    return ink, inverted, line_mask, mask


def _across_the_page(boxes: list[Box], shape: tuple[int, ...]) -> bool:
    """Some box spans ``ACROSS_THE_PAGE`` of the page's height or width (same pixels)."""
    h, w = shape[:2]
    return any(b.height >= ACROSS_THE_PAGE * h or b.width >= ACROSS_THE_PAGE * w for b in boxes)


def _without_lines(
    ink: np.ndarray,
    *,
    forms: bool,
    tables: bool = False,
    upright: bool = True,
    faint: bool = False,
) -> tuple[np.ndarray | None, np.ndarray]:
    """The removed rulings' mask of the uint8 ink map ``ink`` (None when there were none) and
    the ink mask without them. With ``forms``, the lines of a form's frame are no rulings: they
    stay for :func:`remove_form_frames`, which takes its walls out with them. ``tables``: the
    page holds a table; ``upright``: upright lines are looked for too; ``faint``: where none
    are found, they are looked for again in ink over ``FAINT_U8`` (see :func:`remove_lines`)."""
    inky = ink > LOW_U8
    # without the forms, the page is segmented as v1's training crops were (see segment)
    weak, line_mask = remove_lines(
        inky,
        ink=ink,
        tables=tables,
        upright=upright,
        v1=not forms,
        faint=FAINT_U8 if faint else None,
    )
    if forms and line_mask is not None:
        for b in frames_among_rulings(inky, line_mask):
            window = (slice(max(0, b.y0 - 2), b.y1 + 2), slice(max(0, b.x0 - 3), b.x1 + 3))
            weak[window] |= line_mask[window] & inky[window]
            line_mask[window] = False
        if not line_mask.any():
            line_mask = None
    mask = hysteresis(weak, (ink > MASK_U8) & weak)
    if line_mask is not None:
        mask = drop_line_remnants(mask, line_mask)
    return line_mask, mask
