"""The `?` overlay: every shortcut, drawn over the page from the one keymap table."""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from typing import Any

from digitpad.ui.commands import KEYMAP, MOUSE_HELP

PANEL = "#1d2330"
KEY = "#ffd479"
TEXT = "#e8ecf3"


def help_lines() -> list[tuple[str, str]]:
    """(keys, what they do) for every shortcut, digits folded into one line, then the mouse."""
    lines: list[tuple[str, str]] = []
    digits_done = False
    for s in KEYMAP:
        if s.command.startswith("label_"):
            if not digits_done:
                lines.append(("0 – 9", "label the selected box with that digit"))
                digits_done = True
            continue
        lines.append((s.keys, s.description))
    lines.extend(MOUSE_HELP)
    return lines


class HelpOverlay:
    """Toggles a panel of shortcuts on a canvas (tag ``help``)."""

    def __init__(self, canvas: tk.Canvas) -> None:
        self.canvas = canvas
        self.visible = False

    def toggle(self) -> None:
        """Show the overlay, or hide it when it is showing."""
        self.hide() if self.visible else self.show()

    def hide(self) -> None:
        """Remove the overlay from the canvas."""
        self.canvas.delete("help")
        self.visible = False

    def show(self) -> None:
        """Draw every shortcut and gesture over the canvas, in two columns, smaller on a small
        window so that the columns neither overlap nor run out of the panel."""
        c = self.canvas
        c.delete("help")
        lines = help_lines()
        half = (len(lines) + 1) // 2
        w, h = c.winfo_width(), c.winfo_height()
        key_font, text_font = ("DejaVu Sans Mono", 10, "bold"), ("DejaVu Sans", 10)
        key_w = max(tkfont.Font(font=key_font).measure(keys) for keys, _ in lines) + 16
        text_w = max(tkfont.Font(font=text_font).measure(what) for _, what in lines) + 18
        k = help_scale(w, h, half, 18 + key_w + text_w)
        pw, ph = min(w - 20, 900), min(h - 20, (70 + 21 * half) * k)
        x0, y0 = (w - pw) / 2, (h - ph) / 2
        c.create_rectangle(x0, y0, x0 + pw, y0 + ph, fill=PANEL, outline=KEY, width=2, tags="help")
        title = "Keyboard shortcuts  (? or Esc to close)"
        self._text(x0 + 18, y0 + 14 * k, title, KEY, ("DejaVu Sans", _points(13 * k), "bold"))
        for i, (keys, what) in enumerate(lines):
            col, row = divmod(i, half)
            x, y = x0 + 18 + col * pw / 2, y0 + (48 + row * 21) * k
            self._text(x, y, keys, KEY, (key_font[0], _points(10 * k), "bold"))
            self._text(x + key_w * k, y, what, TEXT, (text_font[0], _points(10 * k)))
        c.tag_raise("help")
        self.visible = True

    def _text(self, x: float, y: float, text: str, fill: str, font: tuple[Any, ...]) -> None:
        self.canvas.create_text(x, y, text=text, anchor="nw", fill=fill, font=font, tags="help")


def help_scale(width: int, height: int, rows: int, column: float) -> float:
    """How much smaller than its full size (two columns ``column`` pixels wide, of ``rows``
    lines) the overlay is drawn on a canvas of ``width`` x ``height``: 1 when it fits."""
    across = (min(width - 20, 900) / 2) / column
    return max(0.5, min(1.0, across, (height - 20) / (70 + 21 * rows)))


def _points(size: float) -> int:
    return max(6, round(size))
