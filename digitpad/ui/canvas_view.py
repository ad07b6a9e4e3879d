"""The page on a Tk canvas: zoom, pan, fit, boxes, and the mouse gestures that edit them.

Only the visible part of the page is rendered, at screen scale, from a pyramid of halved copies,
so a 12-megapixel photo pans and zooms as smoothly as a small drawing. Strokes go straight into
the full-resolution buffer (:class:`~digitpad.ui.drawing.Drawing`); the canvas shows a cheap
vector preview while the pen moves and re-renders the page when the stroke ends.
"""

from __future__ import annotations

import math
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageTk

from digitpad.types import Box
from digitpad.ui import style
from digitpad.ui.drawing import INK, PAPER
from digitpad.ui.editor import EditBox, Editor
from digitpad.ui.handles import HANDLES, handle_at

PYRAMID_MIN_SIDE = 1500  # below this the page is small enough to render from full resolution
ZOOM_STEP = 1.25
SETTLE_MS = 80  # after a pan or zoom pauses this long, render the page at full quality
MIN_SCALE, MAX_SCALE = 0.02, 16.0
REVEAL_MARGIN = 24  # screen pixels kept round a box the keyboard brings into view
TOOLS = ("pen", "eraser", "box")


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass
class _Drag:
    """A gesture in progress with the box tool."""

    mode: str  # "move", "resize", "new"
    start: tuple[float, float]  # page point where the button went down
    box_id: int | None = None
    handle: str | None = None
    original: Box | None = None
    current: Box | None = None


class CanvasView:
    """Renders an :class:`Editor` and turns mouse gestures into edits."""

    def __init__(self, parent: tk.Misc, on_change: Callable[[], None]) -> None:
        self.canvas = tk.Canvas(
            parent, background=style.CANVAS_BG, highlightthickness=0, takefocus=1, cursor="pencil"
        )
        self.on_change = on_change
        self.editor: Editor | None = None
        self.tool = "pen"
        self.scale = 1.0
        self.ox = 0.0  # page coordinates shown at the canvas's top-left corner
        self.oy = 0.0
        self._photo: ImageTk.PhotoImage | None = None
        self._pyramid: list[Image.Image] = []
        self._pyramid_rev = -1
        self._rendered: tuple[object, ...] | None = None
        self._drag: _Drag | None = None
        self._pan_from: tuple[int, int] | None = None
        self._settle: str | None = None
        self._last_screen: tuple[float, float] | None = None
        self._fitted = False
        self._bind()

    # ----- setup -------------------------------------------------------------------------------

    def _bind(self) -> None:
        c = self.canvas
        c.bind("<ButtonPress-1>", self._press)
        c.bind("<B1-Motion>", self._motion)
        c.bind("<ButtonRelease-1>", self._release)
        for button in (2, 3):
            c.bind(f"<ButtonPress-{button}>", self._pan_start)
            c.bind(f"<B{button}-Motion>", self._pan_move)
        c.bind("<Button-4>", lambda e: self.zoom_at(ZOOM_STEP, e.x, e.y))
        c.bind("<Button-5>", lambda e: self.zoom_at(1 / ZOOM_STEP, e.x, e.y))
        c.bind("<MouseWheel>", self._wheel)
        c.bind("<Configure>", self._configure)

    def set_editor(self, editor: Editor, pyramid: list[Image.Image] | None = None) -> None:
        """Show a new page, fitted to the window; ``pyramid`` is its halved copies when they
        were made already (:func:`make_pyramid`, on the worker that read the page)."""
        self.editor = editor
        self._pyramid_rev = -1
        if pyramid and pyramid[0] is editor.drawing.image:
            self._pyramid, self._pyramid_rev = pyramid, editor.drawing.revision
        self._drag = None
        self.canvas.delete("all")
        self._rendered = None
        self.fit()

    def set_tool(self, tool: str) -> None:
        """Use ``tool`` for gestures on the canvas (and show its cursor).

        Raises:
            ValueError: ``tool`` is not one of TOOLS.
        """
        if tool not in TOOLS:
            raise ValueError(tool)
        self.tool = tool
        self.canvas.configure(
            cursor={"pen": "pencil", "eraser": "dotbox", "box": "crosshair"}[tool]
        )

    # ----- geometry --------------------------------------------------------------------------

    def _viewport(self) -> tuple[int, int]:
        return max(1, self.canvas.winfo_width()), max(1, self.canvas.winfo_height())

    def to_page(self, sx: float, sy: float) -> tuple[float, float]:
        """Screen (canvas) point -> page pixel coordinates."""
        return self.ox + sx / self.scale, self.oy + sy / self.scale

    def to_screen(self, px: float, py: float) -> tuple[float, float]:
        """Page pixel coordinates -> screen (canvas) point."""
        return (px - self.ox) * self.scale, (py - self.oy) * self.scale

    def bring_into_view(self, box: Box) -> None:
        """Shift the view, without zooming, so that ``box`` is in it with a margin at the next
        render, when it is not. The keyboard moves the selection (Tab) and a box (arrows)
        anywhere on a page larger than the view; the person must see what they relabel."""
        cw, ch = self._viewport()
        x0, y0 = self.to_screen(box.x0, box.y0)
        x1, y1 = self.to_screen(box.x1, box.y1)
        self.ox -= shift_into_view(x0, x1, cw, REVEAL_MARGIN) / self.scale
        self.oy -= shift_into_view(y0, y1, ch, REVEAL_MARGIN) / self.scale

    def fit(self) -> None:
        """Show the whole page, centred, as large as the window allows."""
        if self.editor is None:
            return
        cw, ch = self._viewport()
        w, h = self.editor.size
        self.scale = max(MIN_SCALE, min(MAX_SCALE, min((cw - 16) / w, (ch - 16) / h)))
        self.ox = w / 2 - cw / (2 * self.scale)
        self.oy = h / 2 - ch / (2 * self.scale)
        self.render()

    def zoom_at(self, factor: float, sx: float, sy: float) -> None:
        """Zoom by ``factor`` keeping the page point under (sx, sy) still.

        The page is shown at once with fast sampling, then smoothed when the wheel rests.
        """
        new = max(MIN_SCALE, min(MAX_SCALE, self.scale * factor))
        px, py = self.to_page(sx, sy)
        self.scale = new
        self.ox, self.oy = px - sx / new, py - sy / new
        self.render_page(fast=True)
        self.render_boxes()
        self._settle_later()

    def zoom_centre(self, factor: float) -> None:
        """Zoom by ``factor`` about the middle of the view."""
        cw, ch = self._viewport()
        self.zoom_at(factor, cw / 2, ch / 2)

    def _wheel(self, event: tk.Event) -> None:
        self.zoom_at(ZOOM_STEP if event.delta > 0 else 1 / ZOOM_STEP, event.x, event.y)

    def _configure(self, _event: tk.Event) -> None:
        if not self._fitted and self.canvas.winfo_width() > 1:
            self._fitted = True
            self.fit()
        else:
            self.render()

    def _pan_start(self, event: tk.Event) -> None:
        self._pan_from = (event.x, event.y)

    def _pan_move(self, event: tk.Event) -> None:
        if self._pan_from is None:
            return
        x, y = self._pan_from
        self._pan_from = (event.x, event.y)
        self.pan_by(event.x - x, event.y - y)

    def pan_by(self, dx: float, dy: float) -> None:
        """Shift the view by (dx, dy) screen pixels.

        What is already rendered is moved at once (cheap, so panning follows the hand even on
        a big photo); the newly uncovered part is rendered when the pointer rests a moment.
        """
        self.ox -= dx / self.scale
        self.oy -= dy / self.scale
        self.canvas.move("page", dx, dy)
        self.canvas.move("box", dx, dy)
        self._settle_later()

    def _settle_later(self) -> None:
        if self._settle is not None:
            self.canvas.after_cancel(self._settle)
        self._settle = self.canvas.after(SETTLE_MS, self._settled)

    def _settled(self) -> None:
        self._settle = None
        self.render()

    # ----- rendering ---------------------------------------------------------------------------

    def render(self) -> None:
        """Redraw the page image (if the view or the pixels changed) and the boxes."""
        self.render_page()
        self.render_boxes()

    def render_page(self, *, fast: bool = False) -> None:
        """Show the visible part of the page at screen scale (``fast``: nearest-neighbour
        sampling, for the moment a zoom happens; a quality render follows)."""
        ed = self.editor
        if ed is None:
            return
        cw, ch = self._viewport()
        key = (ed.drawing.revision, id(ed), self.scale, self.ox, self.oy, cw, ch, fast)
        if key == self._rendered:
            return
        self._rendered = key
        w, h = ed.size
        x0, y0 = max(0, math.floor(self.ox)), max(0, math.floor(self.oy))
        x1 = min(w, math.ceil(self.ox + cw / self.scale))
        y1 = min(h, math.ceil(self.oy + ch / self.scale))
        self.canvas.delete("preview")
        if x1 <= x0 or y1 <= y0:
            self.canvas.delete("page")
            return
        # The pyramid first: the level is chosen from this page's levels, not the last page's
        # (a new photo's first render would otherwise crop and resize it at full resolution).
        pyramid = self._pyramid_for(ed)
        level = self._level()
        src = pyramid[level]
        f = 2**level
        crop = src.crop((x0 // f, y0 // f, math.ceil(x1 / f), math.ceil(y1 / f)))
        out_w = max(1, round((crop.width * f) * self.scale))
        out_h = max(1, round((crop.height * f) * self.scale))
        # Downscaling wants smoothing; zoomed in, show crisp pixels so boxes can be placed exactly.
        smooth = self.scale * f < 2 and not fast
        resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
        self._show(
            crop.resize((out_w, out_h), resample), *self.to_screen((x0 // f) * f, (y0 // f) * f)
        )

    def _show(self, shown: Image.Image, sx: float, sy: float) -> None:
        """Put ``shown`` on the canvas with its top-left corner at screen point (sx, sy).

        The photo and the canvas item are reused when the size allows: creating a new Tk image
        costs more than the resize itself.
        """
        if self._photo is not None and (self._photo.width(), self._photo.height()) == shown.size:
            self._photo.paste(shown)
        else:
            self._photo = ImageTk.PhotoImage(shown)
        items = self.canvas.find_withtag("page")
        if items:
            self.canvas.itemconfigure(items[0], image=self._photo)
            self.canvas.coords(items[0], round(sx), round(sy))
        else:
            self.canvas.create_image(
                round(sx), round(sy), image=self._photo, anchor="nw", tags="page"
            )
        self.canvas.tag_lower("page")

    def _level(self) -> int:
        """Pyramid level to sample: each level halves, never sampling coarser than the screen."""
        if self.scale >= 1 or not self._pyramid:
            return 0
        return max(0, min(len(self._pyramid) - 1, math.floor(math.log2(1 / self.scale))))

    def _pyramid_for(self, ed: Editor) -> list[Image.Image]:
        """The page and its halved copies, brought up to date with the drawing: only the
        region changed since they were made is halved again (a whole 108 MP page took 0.2-0.3 s
        a stroke; a stroke's region takes well under a millisecond)."""
        d = ed.drawing
        if self._pyramid and self._pyramid[0] is d.image and self._pyramid_rev != d.revision:
            changed = d.changed_since(self._pyramid_rev)
            if changed is not None:
                update_pyramid(self._pyramid, changed)
                self._pyramid_rev = d.revision
        if self._pyramid_rev != d.revision or not self._pyramid or self._pyramid[0] is not d.image:
            self._pyramid = make_pyramid(d.image)
            self._pyramid_rev = d.revision
        return self._pyramid

    def render_boxes(self, override: dict[int, Box] | None = None) -> None:
        """Draw every visible box; ``override`` shows a box being dragged at its new place."""
        c = self.canvas
        c.delete("box")
        ed = self.editor
        if ed is None:
            return
        override = override or {}
        new_box = override.get(-1)
        for b in ed.visible():
            self._draw_box(b, override.get(b.id, b.box), selected=b.id == ed.selected)
        if new_box is not None:
            x0, y0 = self.to_screen(new_box.x0, new_box.y0)
            x1, y1 = self.to_screen(new_box.x1, new_box.y1)
            c.create_rectangle(x0, y0, x1, y1, outline=style.PERSON, dash=(4, 3), tags="box")
        c.tag_raise("help")

    def _draw_box(self, b: EditBox, box: Box, *, selected: bool) -> None:
        c = self.canvas
        colour = style.box_colour(b)
        x0, y0 = self.to_screen(box.x0, box.y0)
        x1, y1 = self.to_screen(box.x1, box.y1)
        width = style.SELECTED_WIDTH if selected else style.BOX_WIDTH
        dash = (5, 3) if b.label is None else ()
        c.create_rectangle(x0, y0, x1, y1, outline=colour, width=width, dash=dash, tags="box")
        reviewed = self.editor is not None and b.id in self.editor.reviewed
        text = (b.label or "?") + (" ✓" if reviewed else "")
        tid = c.create_text(
            x0 + 3, y0 - 2, text=text, anchor="sw", fill="white", font=style.FONT_BOLD, tags="box"
        )
        bx0, by0, bx1, by1 = c.bbox(tid)
        bg = c.create_rectangle(bx0 - 3, by0, bx1 + 3, by1, fill=colour, outline=colour, tags="box")
        c.tag_lower(bg, tid)
        if selected:
            hs = style.HANDLE / 2
            for fx, fy in HANDLES.values():
                hx, hy = x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy
                c.create_rectangle(
                    hx - hs, hy - hs, hx + hs, hy + hs, fill="white", outline=colour, tags="box"
                )

    # ----- gestures ----------------------------------------------------------------------------

    def finish_stroke(self) -> bool:
        """End a stroke still open as if its button came up where the pen last was; whether
        there was one. A dialog or a pointer grab can take the button's release: the stroke
        must not stay open, its ink outside what Recognise reads, Save keeps and Undo undoes.
        """
        ed = self.editor
        if ed is None or not ed.drawing.drawing:
            return False
        ed.commit_stroke(ed.drawing.end())
        self._last_screen = None
        self.render()
        self.on_change()
        return True

    def _press(self, event: tk.Event) -> None:
        self.canvas.focus_set()
        ed = self.editor
        if ed is None:
            return
        self.finish_stroke()  # its release was lost: it ends before anything else begins
        px, py = self.to_page(event.x, event.y)
        if self.tool in ("pen", "eraser"):
            ed.drawing.begin(px, py, eraser=self.tool == "eraser")
            self._last_screen = (event.x, event.y)
            self._preview_segment(event.x, event.y, event.x, event.y)
            return
        handle = self._handle_at(event.x, event.y)
        if handle is not None and ed.current is not None:
            b = ed.current
            self._drag = _Drag("resize", (px, py), b.id, handle, b.box, b.box)
            return
        hit = ed.hit(px, py)
        if hit is not None:
            ed.select(hit.id)
            self._drag = _Drag("move", (px, py), hit.id, None, hit.box, hit.box)
            self.on_change()
            return
        self._drag = _Drag("new", (px, py))

    def _motion(self, event: tk.Event) -> None:
        ed = self.editor
        if ed is None:
            return
        px, py = self.to_page(event.x, event.y)
        if ed.drawing.drawing:
            ed.drawing.extend(px, py)
            lx, ly = self._last_screen or (event.x, event.y)
            self._preview_segment(lx, ly, event.x, event.y)
            self._last_screen = (event.x, event.y)
            return
        drag = self._drag
        if drag is None:
            return
        dx, dy = px - drag.start[0], py - drag.start[1]
        if drag.mode == "new":
            sx, sy = drag.start
            drag.current = Box(round(sx), round(sy), round(px), round(py))
            self.render_boxes({-1: _ordered(drag.current)})
            return
        assert drag.original is not None and drag.box_id is not None
        o = drag.original
        if drag.mode == "move":
            w, h = ed.size  # a moved box keeps its size: it stops at the page edge
            dx = max(-o.x0, min(round(dx), w - o.x1))
            dy = max(-o.y0, min(round(dy), h - o.y1))
            drag.current = Box(o.x0 + dx, o.y0 + dy, o.x1 + dx, o.y1 + dy)
        else:
            fx, fy = HANDLES[drag.handle or "se"]
            x0 = o.x0 + dx if fx == 0 else o.x0
            x1 = o.x1 + dx if fx == 1 else o.x1
            y0 = o.y0 + dy if fy == 0 else o.y0
            y1 = o.y1 + dy if fy == 1 else o.y1
            drag.current = _ordered(Box(round(x0), round(y0), round(x1), round(y1)))
        self.render_boxes({drag.box_id: drag.current})

    def _release(self, event: tk.Event) -> None:
        ed = self.editor
        if ed is None:
            return
        if ed.drawing.drawing:
            self._motion(event)
            self.finish_stroke()
            return
        drag, self._drag = self._drag, None
        if drag is None:
            return
        if drag.mode == "new" and drag.current is not None:
            ed.add_box(drag.current)  # too small (a click) is ignored by the editor
        elif drag.mode in ("move", "resize") and drag.current is not None:
            assert drag.box_id is not None
            ed.set_box(drag.box_id, drag.current)
        self.render_boxes()
        self.on_change()

    def _preview_segment(self, x0: float, y0: float, x1: float, y1: float) -> None:
        ed = self.editor
        assert ed is not None
        colour = _hex(PAPER if self.tool == "eraser" else INK)
        width = max(1.0, ed.drawing.stroke_width * self.scale)
        self.canvas.create_line(
            x0, y0, x1, y1, fill=colour, width=width, capstyle="round", tags="preview"
        )

    def _handle_at(self, sx: float, sy: float) -> str | None:
        ed = self.editor
        if ed is None or ed.current is None:
            return None
        b = ed.current.box
        return handle_at(
            (*self.to_screen(b.x0, b.y0), *self.to_screen(b.x1, b.y1)), sx, sy, style.HANDLE
        )

    def pointer_page_point(self) -> tuple[float, float]:
        """The page point under the mouse pointer, or the centre of the view when it is outside."""
        c = self.canvas
        sx = c.winfo_pointerx() - c.winfo_rootx()
        sy = c.winfo_pointery() - c.winfo_rooty()
        cw, ch = self._viewport()
        if not (0 <= sx < cw and 0 <= sy < ch):
            sx, sy = cw / 2, ch / 2
        return self.to_page(sx, sy)


def _ordered(box: Box) -> Box:
    return Box(min(box.x0, box.x1), min(box.y0, box.y1), max(box.x0, box.x1), max(box.y0, box.y1))


def make_pyramid(image: Image.Image) -> list[Image.Image]:
    """``image`` and its halved copies, down to ``PYRAMID_MIN_SIDE``: what the view renders
    from. Safe on a worker thread for an image no window shows yet (0.2 s for 108 MP)."""
    levels = [image]
    while max(levels[-1].size) > PYRAMID_MIN_SIDE:
        levels.append(levels[-1].reduce(2))
    return levels


def update_pyramid(levels: list[Image.Image], changed: Box) -> None:
    """Halve ``changed`` (a region of ``levels[0]``, whose pixels changed) again into every
    coarser level, in place (a level changed whole is made anew). Each level is ``reduce(2)``
    of the one before, and that averages separate 2x2 blocks, so a region widened to even
    edges halves to exactly the pixels the whole level would have there."""
    region = changed
    for k in range(1, len(levels)):
        if region.area == 0:
            return
        finer = levels[k - 1]
        if region == Box(0, 0, finer.width, finer.height):  # all of it: no copy to crop
            levels[k] = finer.reduce(2)
            region = Box(0, 0, levels[k].width, levels[k].height)
            continue
        x0, y0 = region.x0 // 2 * 2, region.y0 // 2 * 2
        x1 = min(finer.width, -(-region.x1 // 2) * 2)
        y1 = min(finer.height, -(-region.y1 // 2) * 2)
        levels[k].paste(finer.crop((x0, y0, x1, y1)).reduce(2), (x0 // 2, y0 // 2))
        region = Box(x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2))


def shift_into_view(lo: float, hi: float, size: float, margin: float) -> float:
    """How far to move the span [lo, hi] (screen pixels along one axis) so that it is seen in
    [0, size]: 0 when it is whole in view, or (wider than the view) when some of it is;
    otherwise as little as brings it whole, or as much of it as fits, ``margin`` pixels
    inside the view's edge."""
    if hi - lo > size - 2 * margin:
        if hi <= margin:
            return size - margin - hi
        return margin - lo if lo >= size - margin else 0.0
    if lo < 0:
        return margin - lo
    return size - margin - hi if hi > size else 0.0
