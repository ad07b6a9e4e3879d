"""The eight resize handles of the selected box, and which one a press on the screen takes.

Pure geometry in screen pixels, apart from Tk, so it is unit-tested without a window.
"""

from __future__ import annotations

# Handle positions as fractions of the box: (fx, fy) with 0 = left/top, 1 = right/bottom.
HANDLES = {
    "nw": (0, 0),
    "n": (0.5, 0),
    "ne": (1, 0),
    "e": (1, 0.5),
    "se": (1, 1),
    "s": (0.5, 1),
    "sw": (0, 1),
    "w": (0, 0.5),
}

# a corner wins over the middle of an edge where their grips meet (on a small box, they do)
_CORNERS_FIRST = ("nw", "ne", "se", "sw", "n", "e", "s", "w")


def handle_at(
    box: tuple[float, float, float, float], sx: float, sy: float, reach: float
) -> str | None:
    """The handle of ``box`` (x0, y0, x1, y1 on the screen) that a press at (sx, sy) takes, or
    None: then a press inside the box moves it.

    A handle is taken up to ``reach`` pixels outside the box's edge, and inside it only as far
    as leaves at least ``reach`` pixels in the middle for moving: a "1" a few pixels wide on
    the screen, or any digit of a photo seen whole, is still moved by a press on it, and
    resized from just outside its edges.
    """
    x0, y0, x1, y1 = box
    inside_x = max(0.0, min(reach, (x1 - x0 - reach) / 2))
    inside_y = max(0.0, min(reach, (y1 - y0 - reach) / 2))
    for name in _CORNERS_FIRST:
        fx, fy = HANDLES[name]
        if _near(sx, x0, x1, fx, reach, inside_x) and _near(sy, y0, y1, fy, reach, inside_y):
            return name
    return None


def _near(s: float, lo: float, hi: float, f: float, reach: float, inside: float) -> bool:
    """Whether ``s`` is within the grip, along one axis, of a handle at fraction ``f``."""
    if f == 0:
        return lo - reach <= s <= lo + inside
    if f == 1:
        return hi - inside <= s <= hi + reach
    mid = (lo + hi) / 2  # a handle in the middle of an edge: along that edge
    return abs(s - mid) <= reach
