"""The Stats window, drawn on a Tk canvas: accuracy over time and model versions, the confusion
matrix as a heatmap with counts, and accuracy per digit. No plotting library needed."""

from __future__ import annotations

import gc
import tkinter as tk
from typing import TYPE_CHECKING, Any

from digitpad.ui import chrome, services, style
from digitpad.ui.trace import trace

if TYPE_CHECKING:
    from digitpad.store import TimelinePoint
    from digitpad.ui.app import App

VERSION_COLOURS = ("#2f6fdf", "#1f9d55", "#d93025", "#8e44ad", "#e5a000", "#16a2b8", "#555")
GRID = "#d9dde3"
TEXT = "#222"
MUTED = "#777"
SMALL = ("DejaVu Sans", 8)


def heat_colour(fraction: float, *, good: bool) -> str:
    """White to green (the diagonal: right) or white to red (off it: mistakes)."""
    f = max(0.0, min(1.0, fraction)) ** 0.5  # square root: small counts stay visible
    r, g, b = (31, 157, 85) if good else (217, 48, 37)
    mix = lambda c: round(255 + (c - 255) * f)  # noqa: E731
    return f"#{mix(r):02x}{mix(g):02x}{mix(b):02x}"


class AccuracyControl:
    """Keeps the status bar's live counter and the Stats window fed from the store."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.stats: Any = None
        # whether the last read of the store failed (the status bar then says why)
        self.store_unavailable = False
        self.window: StatsWindow | None = None
        self._again = False
        self._timeline_again = False

    def refresh(self) -> None:
        """Read the store's stats off the Tk thread (again after the current read, if busy),
        and the chart's timeline too while the Stats window is open, so it follows every save.
        """
        if not self.app.jobs.start("stats", services.read_stats, self.app.home):
            self._again = True
        if self.window is not None and self.window.alive:
            self._refresh_timeline()

    def _refresh_timeline(self) -> None:
        if not self.app.jobs.start("timeline", services.read_timeline, self.app.home):
            self._timeline_again = True

    def on_stats_done(self, payload: tuple[Any, Any]) -> None:
        self.stats = payload[1]
        self.store_unavailable = False
        self.show_counter()
        if self.window is not None and self.window.alive:
            self.window.update_stats(self.stats)
        if self._again:
            self._again = False
            self.refresh()

    def on_stats_failed(self, payload: tuple[Any, BaseException]) -> None:
        self.store_unavailable = True
        self.show_counter()
        self.app.status.say(f"Stats unavailable: {payload[1]}")
        if self._again:  # a save asked for a fresh read meanwhile: the store may be back
            self._again = False
            self.refresh()

    def show_counter(self) -> None:
        """ "Model v3 · 96.8% on last 100 · 1,240 digits reviewed" in the status bar."""
        text = services.counter_text(
            self.stats, self.app.model_version, store_unavailable=self.store_unavailable
        )
        self.app.status.set_counter(text)
        trace("counter", text=text)

    def open_window(self) -> None:
        """Open the Stats window (or raise it) and refresh what it shows."""
        if self.window is not None and self.window.alive:
            self.window.raise_()
        else:
            self.window = StatsWindow(self.app.root)
            # the shortcuts work from it too (Ctrl+S, Ctrl+I...); Esc closes it
            chrome.bind_keys(self.window.top, self.app.handle_key, skip=("escape",))
        if self.stats is not None:
            self.window.update_stats(self.stats)
        self.refresh()

    def on_timeline_done(self, payload: tuple[Any, Any]) -> None:
        if self.window is not None and self.window.alive:
            self.window.update_timeline(payload[1])
        self._timeline_again_if_asked()

    def on_timeline_failed(self, payload: tuple[Any, BaseException]) -> None:
        self.app.status.say(f"Accuracy history unavailable: {payload[1]}")
        self._timeline_again_if_asked()

    def _timeline_again_if_asked(self) -> None:
        if self._timeline_again:
            self._timeline_again = False
            if self.window is not None and self.window.alive:
                self._refresh_timeline()


class StatsWindow:
    """A window that redraws itself whenever new stats or a new timeline arrive."""

    def __init__(self, parent: tk.Misc) -> None:
        self.top = tk.Toplevel(parent)
        self.top.title("digitpad — accuracy")
        self.top.geometry("1000x700")
        self.canvas = tk.Canvas(self.top, background="white", highlightthickness=0)
        self.canvas.pack(fill="both", expand=True)
        self.canvas.bind("<Configure>", lambda e: self.draw())
        self.top.bind("<Escape>", lambda e: self.close())
        self.top.protocol("WM_DELETE_WINDOW", self.close)
        self.stats: Any = None
        self.timeline: list[TimelinePoint] = []
        self.alive = True

    def close(self) -> None:
        """Close the window; later updates are ignored."""
        self.alive = False
        self.top.destroy()
        # Free the dead window's Tk objects now, on the Tk thread; a collection triggered later
        # on a worker thread must never be the one to delete Tcl objects.
        gc.collect()

    def raise_(self) -> None:
        """Bring the window to the front."""
        self.top.deiconify()
        self.top.lift()

    def update_stats(self, stats: Any) -> None:
        """Show new stats (per model, per digit, confusion)."""
        self.stats = stats
        self.draw()

    def update_timeline(self, points: list[TimelinePoint]) -> None:
        """Show a new accuracy timeline (oldest point first)."""
        self.timeline = points
        self.draw()

    def draw(self) -> None:
        """Redraw the four panels to fit the window's current size."""
        if not self.alive:
            return
        c = self.canvas
        c.delete("all")
        w, h = max(600, c.winfo_width()), max(400, c.winfo_height())
        mid_x, mid_y = w * 0.56, h * 0.5
        self._timeline(10, 10, mid_x - 10, mid_y - 10)
        self._per_model(mid_x + 10, 10, w - 10, mid_y - 10)
        self._confusion(10, mid_y + 10, mid_x - 10, h - 10)
        self._per_digit(mid_x + 10, mid_y + 10, w - 10, h - 10)

    # ----- panels ------------------------------------------------------------------------------

    def _title(self, x: float, y: float, text: str) -> None:
        self._text(x, y, text, "nw", font=style.FONT_BOLD)

    def _empty(self, x0: float, y0: float, x1: float, y1: float, text: str) -> None:
        self._text((x0 + x1) / 2, (y0 + y1) / 2, text, "center", fill=MUTED)

    def _axes(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Percent gridlines 0..100 on the left of a plot area."""
        for pct in range(0, 101, 25):
            y = y1 - (y1 - y0) * pct / 100
            self.canvas.create_line(x0, y, x1, y, fill=GRID)
            self._text(x0 - 4, y, f"{pct}%", "e", fill=MUTED)

    def _timeline(self, x0: float, y0: float, x1: float, y1: float) -> None:
        c = self.canvas
        self._title(x0, y0, "Live accuracy over time (last 100 boxes, per save)")
        px0, py0, px1, py1 = x0 + 44, y0 + 28, x1 - 10, y1 - 34
        self._axes(px0, py0, px1, py1)
        points = self.timeline
        if not points:
            self._empty(px0, py0, px1, py1, "no reviewed digits yet")
            return
        values = [p.last.accuracy or 0.0 for p in points]  # every point has a counted box
        n = len(points)
        xs = [px0 + (px1 - px0) * (i / max(1, n - 1)) for i in range(n)]
        ys = [py1 - (py1 - py0) * v for v in values]
        # Colours by first use: points come in save order, so newer models get later colours.
        versions = dict.fromkeys(p.model_version for p in points)
        colour = {v: VERSION_COLOURS[i % len(VERSION_COLOURS)] for i, v in enumerate(versions)}
        for i, p in enumerate(points):
            col = colour[p.model_version]
            if i:
                c.create_line(xs[i - 1], ys[i - 1], xs[i], ys[i], width=2, fill=col)
            c.create_oval(xs[i] - 3, ys[i] - 3, xs[i] + 3, ys[i] + 3, fill=col, outline="")
            if i == 0 or points[i - 1].model_version != p.model_version:
                self._version_mark(xs[i], py0, py1, p.model_version, col)
        self._text(px0, py1 + 6, "first save", "nw", fill=MUTED)
        self._text(px1, py1 + 6, f"save {n} · now {values[-1]:.1%}", "ne", fill=MUTED)

    def _version_mark(self, x: float, y0: float, y1: float, version: str, colour: str) -> None:
        """A dashed line where a model version's saves begin, with its name on top."""
        self.canvas.create_line(x, y0, x, y1, fill=colour, dash=(3, 3))
        self._text(x + 3, y0, version, "nw", fill=colour, font=style.FONT_BOLD)

    def _text(self, x: float, y: float, text: str, anchor: str, **options: Any) -> None:
        """A label on the canvas: dark text in the window's font unless ``options`` say so."""
        options.setdefault("fill", TEXT)
        options.setdefault("font", style.FONT)
        self.canvas.create_text(x, y, text=text, anchor=anchor, **options)

    def _bars(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        items: list[tuple[str, Any]],
        colours: list[str],
    ) -> None:
        """Vertical bars of accuracy with the counts under each label."""
        px0, py0, px1, py1 = x0 + 44, y0 + 46, x1 - 10, y1 - 36
        self._axes(px0, py0, px1, py1)
        slot = (px1 - px0) / max(1, len(items))
        for i, ((label, counts), col) in enumerate(zip(items, colours, strict=True)):
            mid = px0 + slot * (i + 0.5)
            acc = counts.accuracy
            if acc is not None:
                top = py1 - (py1 - py0) * acc
                self.canvas.create_rectangle(
                    mid - slot * 0.32, top, mid + slot * 0.32, py1, fill=col, outline=""
                )
                small = SMALL if slot < 70 else style.FONT  # narrow bars: no overlap
                self._text(mid, top - 2, f"{acc:.0%}", "s", font=small)
            self._text(mid, py1 + 4, label, "n", font=style.FONT_BOLD)
            self._text(
                mid, py1 + 18, f"{counts.correct}/{counts.total}", "n", fill=MUTED, font=SMALL
            )

    def _per_model(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self._title(x0, y0, "Accuracy per model version")
        if self.stats is None or not self.stats.per_model:
            self._empty(x0, y0, x1, y1, "no reviewed digits yet")
            return
        items = list(self.stats.per_model.items())
        colours = [VERSION_COLOURS[i % len(VERSION_COLOURS)] for i in range(len(items))]
        self._bars(x0, y0, x1, y1, items, colours)

    def _per_digit(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self._title(x0, y0, "Accuracy per digit (of the digits you wrote)")
        if self.stats is None:
            self._empty(x0, y0, x1, y1, "no reviewed digits yet")
            return
        items = list(self.stats.per_digit.items())
        colours = [
            style.confidence_colour(v.accuracy) if v.accuracy is not None else GRID
            for _, v in items
        ]
        self._bars(x0, y0, x1, y1, items, colours)

    def _confusion(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self._title(x0, y0, "Confusion: model said (rows) × you said (columns)")
        if self.stats is None:
            self._empty(x0, y0, x1, y1, "no reviewed digits yet")
            return
        matrix = self.stats.confusion
        rows = list(matrix)
        cols = list(next(iter(matrix.values())).keys()) if matrix else []
        gx0, gy0 = x0 + 44, y0 + 44
        cw = (x1 - gx0) / max(1, len(cols))
        ch = (y1 - gy0) / max(1, len(rows))
        peak = max([v for r in matrix.values() for v in r.values()] + [1])
        for j, col in enumerate(cols):
            self._text(gx0 + cw * (j + 0.5), gy0 - 4, _short(col), "s", font=style.FONT_BOLD)
        for i, row in enumerate(rows):
            self._text(gx0 - 4, gy0 + ch * (i + 0.5), _short(row), "e", font=style.FONT_BOLD)
            for j, col in enumerate(cols):
                n = matrix[row][col]
                fill = heat_colour(n / peak, good=row == col) if n else "white"
                cx, cy = gx0 + cw * j, gy0 + ch * i
                self.canvas.create_rectangle(cx, cy, cx + cw, cy + ch, fill=fill, outline=GRID)
                if n:
                    self._text(cx + cw / 2, cy + ch / 2, str(n), "center", font=SMALL)


def _short(label: str) -> str:
    """Confusion headings short enough for a narrow cell."""
    return {"not_digit": "no", "missed": "miss"}.get(label, label)
