"""Ink on the page: a smooth pen and an eraser that draw straight into a full-resolution buffer.

The buffer *is* the page the recogniser sees: strokes are rendered into it as they are drawn,
never grabbed from the screen. Every stroke becomes an undoable :class:`PatchEdit` holding only
the pixels it changed; Clear a :class:`ClearEdit` holding the page before it as a snapshot.

Every change of pixels is also written to a journal (the page as loaded, then the regions
pasted over it, in order), so :meth:`Drawing.snapshot` can freeze the page as it is now without
copying it: a copy of a 12 MP page took 60 ms on the Tk thread at every Save.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from digitpad.types import Box

PAPER = (255, 255, 255)
INK = (20, 20, 24)
DEFAULT_SIZE = (1000, 700)
MIN_WIDTH, MAX_WIDTH = 1, 60
ERASER_FACTOR = 3  # the eraser is wider than the pen: rubbing out should be quick
# Exponential smoothing of the pointer: 0 = raw, towards 1 = heavier. Hides mouse jitter
# without visible lag.
SMOOTHING = 0.35


# The journal is folded into a new base once its regions hold this many times the page's bytes,
# so it never keeps much more than a page's worth of pixels that history has already dropped.
FOLD_FACTOR = 2
# How many changes of pixels the drawing remembers the regions of (see Drawing.changed_since):
# a view that falls further behind redraws its copies of the whole page.
CHANGES_KEPT = 4096
# has_ink keeps whether each tile of this many pixels square holds ink, and looks again only at
# the tiles a change touched: a look at a whole 108 MP scan takes 0.15 s on the Tk thread
INK_TILE = 512
INK_BELOW = 250  # luminance under this is ink; paper texture and scanner noise are not


@dataclass
class PatchEdit:
    """Pixels of ``region`` before and after an edit; undo/redo paste them back.

    Both arrays are made read-only: the drawing's journal and snapshots share them.
    """

    label: str
    drawing: Drawing
    region: Box
    before: np.ndarray
    after: np.ndarray

    def __post_init__(self) -> None:
        self.before.flags.writeable = False
        self.after.flags.writeable = False

    def undo(self) -> None:
        """Put back the pixels from before the stroke."""
        self.drawing.paste(self.before, self.region)

    def redo(self) -> None:
        """Put back the pixels from after the stroke."""
        self.drawing.paste(self.after, self.region)


@dataclass(frozen=True, eq=False)
class PageSnapshot:
    """The page's pixels at one moment, taken without copying them (cheap on the Tk thread).

    ``base`` (read-only; None for blank paper) with ``regions`` pasted over it in order is the
    page as it was when taken; strokes drawn later never change it.
    """

    size: tuple[int, int]
    base: np.ndarray | None
    regions: tuple[tuple[Box, np.ndarray], ...]
    seq: int  # the number of the drawing's latest journal entry when this was taken
    origin: object  # the drawing's identity, so only it takes this snapshot's pixels back

    def array(self) -> np.ndarray:
        """The page as a new RGB uint8 array (H, W, 3), exactly as it was when taken.

        A full copy of the page (6 ms at 12 MP): call it off the Tk thread.
        """
        w, h = self.size
        out = np.full((h, w, 3), PAPER, np.uint8) if self.base is None else self.base.copy()
        for region, pixels in self.regions:
            ph, pw = pixels.shape[:2]
            out[region.y0 : region.y0 + ph, region.x0 : region.x0 + pw] = pixels
        return out


@dataclass(frozen=True, eq=False)
class ClearEdit:
    """Clear as an undoable step: the page before it is kept as a snapshot, which copies no
    pixels (a copy of the page before and after it, compared, took 2.3 s and 650 MB on a
    12000x9000 scan)."""

    drawing: Drawing
    before: PageSnapshot
    label: str = "clear"

    def undo(self) -> None:
        """Put the page back as it was before the Clear."""
        self.drawing.restore(self.before)

    def redo(self) -> None:
        """Clear the page again."""
        self.drawing.clear()


class Drawing:
    """The page buffer (RGB, full resolution) and the stroke being drawn on it."""

    def __init__(self, image: np.ndarray | None = None, size: tuple[int, int] = DEFAULT_SIZE):
        """A blank page of ``size`` (width, height), or a copy of ``image`` (RGB uint8)."""
        if image is None:
            self.image = Image.new("RGB", size, PAPER)
            self._base: np.ndarray | None = None
        else:
            # The copy is the journal's base, kept read-only: snapshots share it with workers.
            self._base = np.array(image, dtype=np.uint8, order="C")
            self._base.flags.writeable = False
            self.image = Image.fromarray(self._base, "RGB")
        # The journal: regions pasted over the base since it was taken, numbered: the base
        # holds every entry up to ``_base_seq``, the regions the ones after it, up to ``_seq``
        # (a Clear and its undo number on past every earlier entry).
        self._regions: list[tuple[Box, np.ndarray]] = []
        self._region_bytes = 0
        self._seq = self._base_seq = 0
        self._origin = object()
        self._draw = ImageDraw.Draw(self.image)
        self.pen_width = 8
        # the pixels each segment of the stroke in progress covered before it was drawn (None
        # when no stroke is): a copy of the whole page per stroke took 90 ms on a 24 MP photo
        self._befores: list[tuple[Box, Image.Image]] | None = None
        # whether the page has ink, None until looked at again (see has_ink); which tiles
        # hold ink (None until first looked at), and the region changed since they were
        self._ink: bool | None = None if image is not None else False
        self._ink_tiles: np.ndarray | None = None if image is not None else self._no_ink()
        self._unlooked = self._no_ink()  # per tile: changed since last looked at
        self._points: list[tuple[float, float]] = []
        self._raw: tuple[float, float] | None = None  # the last unsmoothed pointer position
        self._eraser = False
        self._dirty: Box | None = None
        self.revision = 0  # bumps whenever pixels change, so views know to re-render
        # (revision, region) of the latest changes, so a view can redo only what changed
        self._changes: deque[tuple[int, Box]] = deque(maxlen=CHANGES_KEPT)
        # bumps whenever ink may have gone or changed (Clear, an eraser stroke, undo, redo): a
        # reading of the page from before it may show digits that are no longer there (an
        # eraser stroke that rubbed out nothing takes its bump back as it ends)
        self.rewrites = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the page in pixels."""
        return self.image.size

    def array(self) -> np.ndarray:
        """A copy of the page as an RGB uint8 array (H, W, 3)."""
        return np.array(self.image, dtype=np.uint8)

    def snapshot(self) -> PageSnapshot:
        """The page as it is now, frozen, in time independent of the page's size.

        A stroke still being drawn is not in it (its undo step does not exist yet either).
        """
        return PageSnapshot(self.size, self._base, tuple(self._regions), self._seq, self._origin)

    def rebase(self, snapshot: PageSnapshot, pixels: np.ndarray) -> None:
        """Take ``pixels`` (read-only: ``snapshot.array()`` made by a worker) as the journal's
        base, so the regions it already holds are let go. Does nothing when ``snapshot`` is of
        another drawing or of a state the journal no longer starts from (a Clear since).

        Raises:
            ValueError: ``pixels`` is writeable (a later change to it would change the page).
        """
        if pixels.flags.writeable:
            raise ValueError("a drawing's base must be read-only")
        if snapshot.origin is not self._origin:
            return
        drop = snapshot.seq - self._base_seq
        if drop <= 0 or snapshot.seq > self._seq:
            return
        self._base, self._base_seq = pixels, snapshot.seq
        self._regions = self._regions[drop:]
        self._region_bytes = sum(p.nbytes for _, p in self._regions)

    def changed_since(self, revision: int) -> Box | None:
        """The region whose pixels changed since ``revision`` (an empty Box when none did), or
        None when that is too long ago to tell: then take it that all of them did."""
        if revision == self.revision:
            return Box(0, 0, 0, 0)
        if revision > self.revision or not self._changes or self._changes[0][0] > revision + 1:
            return None
        region: Box | None = None
        for rev, box in reversed(self._changes):
            if rev <= revision:
                break
            region = box if region is None else region.union(box)
        return region

    def _changed(self, region: Box) -> None:
        """Count a change of the pixels of ``region``."""
        self.revision += 1
        self._changes.append((self.revision, region))
        if self._ink_tiles is not None:
            t, (w, h) = INK_TILE, self.size
            r = region.clip(w, h)
            if r.area:
                self._unlooked[r.y0 // t : -(-r.y1 // t), r.x0 // t : -(-r.x1 // t)] = True

    def has_ink(self) -> bool:
        """True when anything on the page is darker than near-white paper (luminance under
        ``INK_BELOW``: paper texture and scanner noise are not ink).

        Looked at again after a change that can remove ink (an eraser stroke, undo, redo,
        Clear's undo), and then only in the tiles the changes since touched: a pen stroke only
        adds ink, and a look at a whole 24 MP photo takes 40 ms.
        """
        if self._ink is None:
            if self._ink_tiles is None:
                self._ink_tiles = self._no_ink()
                self._look_at(Box(0, 0, *self.size))
            else:
                for region in _runs(self._unlooked):
                    self._look_at(region)
            self._unlooked[:] = False
            self._ink = bool(self._ink_tiles.any())
        return self._ink

    def _no_ink(self) -> np.ndarray:
        w, h = self.size
        return np.zeros((-(-h // INK_TILE), -(-w // INK_TILE)), dtype=bool)

    def _look_at(self, region: Box) -> None:
        """Find which tiles that ``region`` touches hold ink, a band of tiles at a time."""
        assert self._ink_tiles is not None
        t, (w, h) = INK_TILE, self.size
        region = region.clip(w, h)
        if region.area == 0:
            return
        tx0, tx1 = region.x0 // t, -(-region.x1 // t)
        for ty in range(region.y0 // t, -(-region.y1 // t)):
            band = (tx0 * t, ty * t, min(w, tx1 * t), min(h, ty * t + t))
            grey = np.asarray(self.image.crop(band).convert("L"))
            cols = -(-grey.shape[1] // t) * t
            padded = np.pad(grey, ((0, 0), (0, cols - grey.shape[1])), constant_values=255)
            low = padded.reshape(grey.shape[0], -1, t).min(axis=(0, 2))
            self._ink_tiles[ty, tx0 : tx0 + len(low)] = low < INK_BELOW

    def paste(self, pixels: np.ndarray, region: Box) -> None:
        """Put ``pixels`` (RGB uint8) back at ``region``'s top-left corner."""
        self.image.paste(Image.fromarray(pixels, "RGB"), (region.x0, region.y0))
        ph, pw = pixels.shape[:2]
        self._changed(Box(region.x0, region.y0, region.x0 + pw, region.y0 + ph))
        self.rewrites += 1
        self._ink = None
        self._journal(region, pixels)

    def set_pen_width(self, width: int) -> None:
        """Set the pen width in pixels, clamped to MIN_WIDTH..MAX_WIDTH."""
        self.pen_width = int(min(MAX_WIDTH, max(MIN_WIDTH, width)))

    @property
    def stroke_width(self) -> int:
        """Width of the current tool in page pixels."""
        return self.pen_width * (ERASER_FACTOR if self._eraser else 1)

    @property
    def drawing(self) -> bool:
        """Whether a stroke is in progress (the button is still down)."""
        return self._befores is not None

    def begin(self, x: float, y: float, *, eraser: bool = False) -> Box:
        """Start a stroke at page point (x, y); returns the region that changed."""
        self._befores = []
        self._ink = None  # until the stroke ends: the page is only partly drawn
        self._eraser = eraser
        if eraser:  # its first segment already rubs out: a reading from before may be stale
            self.rewrites += 1
        self._points = [(x, y)]
        self._raw = None
        self._dirty = None
        return self._segment((x, y), (x, y))

    def extend(self, x: float, y: float) -> Box:
        """Continue the stroke towards (x, y), smoothed; returns the region that changed."""
        if self._befores is None:
            return self.begin(x, y)
        self._raw = (x, y)
        px, py = self._points[-1]
        sx, sy = px + (x - px) * (1 - SMOOTHING), py + (y - py) * (1 - SMOOTHING)
        self._points.append((sx, sy))
        return self._segment((px, py), (sx, sy))

    def end(self) -> PatchEdit | None:
        """Finish the stroke: draw to the last point and return it as an undoable edit."""
        if self._befores is None:
            return None
        if self._raw is not None and self._raw != self._points[-1]:
            self._segment(self._points[-1], self._raw)  # smoothing lags: finish where the pen is
        self._raw = None
        befores, self._befores = self._befores, None
        region = self._dirty
        self._dirty = None
        if region is None or region.area == 0:
            self._unchanged()
            return None
        after_img = self.image.crop(region.as_tuple())
        # the region as it was: each segment's pixels from before it, the earliest pasted last
        # (a pixel two segments covered was still untouched when the first one began)
        before_img = after_img.copy()
        for box, pixels in reversed(befores):
            before_img.paste(pixels, (box.x0 - region.x0, box.y0 - region.y0))
        before = np.array(before_img, dtype=np.uint8)
        after = np.array(after_img, dtype=np.uint8)
        if np.array_equal(before, after):  # off the page, or paper rubbed out: no change
            self._unchanged()
            return None
        self._ink = None if self._eraser else True  # a pen stroke that changed pixels left ink
        label = "erase" if self._eraser else "stroke"
        edit = PatchEdit(label, self, region, before, after)
        self._journal(region, edit.after)
        return edit

    def _unchanged(self) -> None:
        """A stroke that changed no pixel: nothing to look at again, and an eraser's rewrite,
        counted at its first segment, did not happen (a reading in flight still stands)."""
        self._ink = None
        if self._eraser:
            self.rewrites -= 1

    def clear(self) -> ClearEdit | None:
        """Wipe the page to white; returns the undoable edit (None if it was white already)."""
        # has_ink is cached and cheap; only a page without it is looked at pixel by pixel
        if not self.has_ink() and all(e == (255, 255) for e in self.image.getextrema()):
            return None
        before = self.snapshot()
        self.image.paste(PAPER, (0, 0, *self.size))
        self._changed(Box(0, 0, *self.size))
        self.rewrites += 1
        self._ink, self._ink_tiles, self._unlooked = False, self._no_ink(), self._no_ink()
        self._seq += 1  # blank paper is a base of its own, with nothing pasted over it
        self._base, self._base_seq, self._regions, self._region_bytes = None, self._seq, [], 0
        return ClearEdit(self, before)

    def restore(self, snapshot: PageSnapshot) -> None:
        """Put the page back as ``snapshot`` (of this drawing) holds it: the undo of a Clear.
        Its base and regions become the journal again, shared, not copied (a copy of a 108 MP
        page took 0.7 s); the entries are numbered anew, after every earlier one, so a snapshot
        from before is never taken back as a base (see :meth:`rebase`)."""
        if snapshot.base is None:
            self.image.paste(PAPER, (0, 0, *self.size))
        else:
            self.image.paste(Image.fromarray(snapshot.base, "RGB"))
        for region, pixels in snapshot.regions:
            self.image.paste(Image.fromarray(pixels, "RGB"), (region.x0, region.y0))
        self._changed(Box(0, 0, *self.size))
        self.rewrites += 1
        self._ink = None
        self._base, self._base_seq = snapshot.base, self._seq + 1
        self._regions = list(snapshot.regions)
        self._seq = self._base_seq + len(self._regions)
        self._region_bytes = sum(p.nbytes for _, p in self._regions)

    def _journal(self, region: Box, pixels: np.ndarray) -> None:
        """Write down that ``pixels`` now cover ``region`` (a copy unless they are read-only:
        a later change to the caller's array must not change the page's history)."""
        if pixels.flags.writeable:
            pixels = pixels.copy()
            pixels.flags.writeable = False
        self._regions.append((region, pixels))
        self._region_bytes += pixels.nbytes
        self._seq += 1
        w, h = self.size
        if self._region_bytes > FOLD_FACTOR * 3 * w * h and self._befores is None:
            # Rare (pages' worth of strokes since the last Save), so a copy here is no stutter.
            self._base = self.array()
            self._base.flags.writeable = False
            self._base_seq, self._regions, self._region_bytes = self._seq, [], 0

    def _segment(self, a: tuple[float, float], b: tuple[float, float]) -> Box:
        width = self.stroke_width
        colour = PAPER if self._eraser else INK
        r = width / 2.0
        w, h = self.size
        box = Box(
            int(min(a[0], b[0]) - r - 2),
            int(min(a[1], b[1]) - r - 2),
            int(max(a[0], b[0]) + r + 3),
            int(max(a[1], b[1]) + r + 3),
        ).clip(w, h)
        if self._befores is not None and box.area > 0:
            self._befores.append((box, self.image.crop(box.as_tuple())))
        # A line plus round caps at both ends gives round joins between segments.
        if a != b:
            self._draw.line([a, b], fill=colour, width=width)
        for cx, cy in (a, b):
            self._draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
        self._dirty = box if self._dirty is None else self._dirty.union(box)
        self._changed(box)
        return box


def _runs(tiles: np.ndarray) -> list[Box]:
    """The page regions of the runs of marked tiles, row by row: strokes far apart are looked
    at apart, not as the box round them both (which could be nearly the whole page)."""
    t, runs = INK_TILE, []
    for ty in np.flatnonzero(tiles.any(axis=1)):
        xs = np.flatnonzero(tiles[ty])
        breaks = np.flatnonzero(np.diff(xs) > 1)
        for start, stop in zip(np.r_[0, breaks + 1], np.r_[breaks, len(xs) - 1], strict=True):
            x0, x1, y0 = int(xs[start]) * t, (int(xs[stop]) + 1) * t, int(ty) * t
            runs.append(Box(x0, y0, x1, y0 + t))
    return runs
