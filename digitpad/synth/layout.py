"""Where things go on a synthetic page: numbers, touching pairs and distractors.

Objects are ink crops trimmed to their ink (coverage >= BOX_INK_LEVEL), so a placed crop's
rectangle *is* its tight annotation box. Neighbouring glyphs in a number are kerned by their
ink profiles (row by row), which makes gaps natural and lets a pair touch at exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from digitpad.synth import nondigits
from digitpad.synth.glyphs import render_digit
from digitpad.synth.style import sample_style
from digitpad.types import NOT_DIGIT

if TYPE_CHECKING:
    from digitpad.synth.pages import PageConfig

BOX_INK_LEVEL = 0.1
_CLEAR = 2  # rows above/below within which neighbouring glyphs' ink must keep its gap
_FREE_KINDS = ("letter", "word", "scribble", "cross", "printed", "quote", "dash")


@dataclass
class Obj:
    """One placed object: trimmed ink, top-left position on the page, ground truth."""

    alpha: np.ndarray
    x: int
    y: int
    label: str
    kind: str
    touching: bool = False

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.x + self.alpha.shape[1], self.y + self.alpha.shape[0])


def trim(alpha: np.ndarray) -> np.ndarray | None:
    """``alpha`` cut to the box of its ink (>= BOX_INK_LEVEL); faint fringe outside is dropped
    so the box holds all the ink. None when there is no ink at all."""
    mask = alpha >= BOX_INK_LEVEL
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    out = alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()
    out[out < BOX_INK_LEVEL * 0.5] = 0.0  # no stray specks far from the strokes
    return out


class _Page:
    """Placement state: objects so far and their rectangles (for collision tests)."""

    def __init__(
        self, cfg: PageConfig, families: tuple[str, ...], angle: float, rng: np.random.Generator
    ) -> None:
        self.cfg, self.families, self.angle, self.rng = cfg, families, angle, rng
        self.objs: list[Obj] = []
        self.rects = np.zeros((0, 4), np.int64)

    def family(self) -> str:
        return self.families[int(self.rng.integers(len(self.families)))]

    def free(self, r: tuple[int, int, int, int], margin: int) -> bool:
        x0, y0, x1, y1 = r
        if x0 < 0 or y0 < 0 or x1 > self.cfg.width or y1 > self.cfg.height:
            return False
        if not len(self.rects):
            return True
        R = self.rects
        hit = (
            (R[:, 0] < x1 + margin)
            & (R[:, 2] > x0 - margin)
            & (R[:, 1] < y1 + margin)
            & (R[:, 3] > y0 - margin)
        )
        return not bool(hit.any())

    def add(self, objs: list[Obj]) -> None:
        self.objs += objs
        self.rects = np.concatenate([self.rects, np.array([o.rect for o in objs], np.int64)])


def lay_out(
    cfg: PageConfig, families: tuple[str, ...], angle: float, rng: np.random.Generator
) -> list[Obj]:
    """All objects of one page, placed without overlapping except touching pairs."""
    page = _Page(cfg, families, angle, rng)
    n = int(rng.integers(cfg.min_digits, cfg.max_digits + 1))
    h0 = _base_height(cfg, max(n, 1), rng)
    numbers = _numbers(n, cfg.touching_rate, rng)
    rows = rng.random() < cfg.row_rate
    cursor = [int(rng.uniform(0.02, 0.12) * cfg.width), int(rng.uniform(0.03, 0.1) * cfg.height)]
    for units in numbers:
        h = max(6, int(h0 * rng.uniform(0.8, 1.25)))
        items = _number_items(page, units, h)
        # Even a page written in rows has the odd number jotted somewhere else.
        in_row = rows and rng.random() > 0.15
        placed = _place(page, items, h, cursor if in_row else None)
        if placed is not None:
            _extras(page, placed, h)
    n_free = rng.poisson(cfg.distractor_rate * max(n, 1) * 0.3)
    for _ in range(n_free):
        _free_distractor(page, h0)
    return page.objs


def _base_height(cfg: PageConfig, n: int, rng: np.random.Generator) -> float:
    # Digits must fit: about 3x their area each, in half the page.
    fit = np.sqrt(0.5 * cfg.width * cfg.height / (2.2 * n))
    hi = max(6.0, min(cfg.max_height, fit, cfg.height * 0.4))
    lo = min(cfg.min_height, hi)
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _numbers(n: int, touching_rate: float, rng: np.random.Generator) -> list[list[int]]:
    """Split n digits into numbers; each unit is 1 (a digit) or 2 (a touching pair).

    Exactly ``round(touching_rate * n / 2)`` pairs (stochastically rounded), so the fraction
    of touching digits matches the rate on average, whatever the number lengths.
    """
    want = touching_rate * n / 2.0
    k = int(want) + int(rng.random() < want - int(want))
    k = min(k, n // 2)
    units = rng.permutation([2] * k + [1] * (n - 2 * k)).tolist()
    numbers, cur, size = [], [], int(rng.choice([1, 2, 3, 4, 5, 6, 8]))
    for u in units:
        cur.append(u)
        if sum(cur) >= size:
            numbers.append(cur)
            cur, size = [], int(rng.choice([1, 2, 3, 4, 5, 6, 8]))
    if cur:
        numbers.append(cur)
    return numbers


@dataclass
class _Item:
    alpha: np.ndarray
    label: str
    kind: str
    touching: bool
    align: str  # "base" (sits on the baseline), "mid", "top"
    # A touching pair is kerned as one item: its two digits and their offsets in ``alpha``.
    parts: list[tuple[_Item, int, int]] | None = None


def _digit(page: _Page, h: int) -> _Item | None:
    label = str(int(page.rng.integers(10)))
    hh = max(6, int(h * page.rng.uniform(0.9, 1.1)))
    ink = trim(render_digit(label, page.rng, height=hh, families=[page.family()]))
    return None if ink is None else _Item(ink, label, "digit", False, "base")


def _pair(page: _Page, h: int) -> list[_Item]:
    """Two digits on one baseline whose inks touch (overlap 0) or overlap by a few pixels."""
    a, b = _digit(page, h), _digit(page, h)
    if a is None or b is None:
        return [it for it in (a, b) if it is not None]
    a.touching = b.touching = True
    ya = -a.alpha.shape[0]
    yb = -b.alpha.shape[0] + round(page.rng.normal(0.0, 0.03 * h))
    overlap = int(page.rng.integers(0, max(1, h // 12) + 1))
    xb = _kern(0, ya, _profiles(a.alpha)[1], yb, _profiles(b.alpha)[0], -overlap, a.alpha.shape[1])
    x0, y0 = min(0, xb), min(ya, yb)
    w = max(a.alpha.shape[1], xb + b.alpha.shape[1]) - x0
    hh = max(ya + a.alpha.shape[0], yb + b.alpha.shape[0]) - y0
    both = np.zeros((hh, w), np.float32)
    parts = []
    for it, x, y in ((a, 0, ya), (b, xb, yb)):
        ih, iw = it.alpha.shape
        sub = both[y - y0 : y - y0 + ih, x - x0 : x - x0 + iw]
        np.maximum(sub, it.alpha, out=sub)
        parts.append((it, x - x0, y - y0))
    return [_Item(both, "pair", "pair", True, "base", parts)]


def _mark(page: _Page, kind: str, h: int) -> _Item | None:
    ink, kind = nondigits.render(page.rng, kind, h, page.family())
    ink = trim(ink)
    align = {"quote": "top", "dash": "mid", "cross": "mid"}.get(kind, "base")
    return None if ink is None else _Item(ink, NOT_DIGIT, kind, False, align)


def _number_items(page: _Page, units: list[int], h: int) -> list[_Item]:
    """The glyphs of one number, left to right, with punctuation now and then."""
    rng, rate = page.rng, page.cfg.distractor_rate
    items: list[_Item | None] = []
    if rng.random() < 0.08 * rate / 0.3:
        items.append(_mark(page, "dash", h))  # a minus sign
    for i, u in enumerate(units):
        if i > 0 and rng.random() < 0.08 * rate / 0.3:
            kind = ("comma", "dot", "dash", "quote")[int(rng.choice(4, p=[0.35, 0.35, 0.2, 0.1]))]
            items.append(_mark(page, kind, h))
        if u == 2:
            items += _pair(page, h)
        else:
            items.append(_digit(page, h))
    return [it for it in items if it is not None]


def _profiles(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: first and last ink column (inf/-inf for an empty row)."""
    m = a >= BOX_INK_LEVEL
    any_ = m.any(axis=1)
    w = a.shape[1]
    left = np.where(any_, m.argmax(axis=1), np.inf)
    right = np.where(any_, w - 1 - m[:, ::-1].argmax(axis=1), -np.inf)
    return left, right


def _assemble(
    items: list[_Item], h: int, angle: float, rng: np.random.Generator
) -> list[tuple[_Item, int, int]]:
    """Number-local positions (x, y) of every item: kerned by ink profiles on a baseline."""
    placed: list[tuple[_Item, int, int, np.ndarray]] = []
    base = 0.0
    tan = np.tan(angle)
    for it in items:
        ih = it.alpha.shape[0]
        x_guess = placed[-1][1] + placed[-1][0].alpha.shape[1] if placed else 0
        b = base + x_guess * tan + rng.normal(0.0, 0.03 * h)
        y = round({"base": b - ih, "mid": b - 0.5 * h - ih / 2, "top": b - h}[it.align])
        left, _ = _profiles(it.alpha)
        x = 0
        for pit, px, py, pright in placed:
            x = max(x, _kern(px, py, pright, y, left, _gap(it, pit, h, rng), pit.alpha.shape[1]))
        _, right = _profiles(it.alpha)
        # Stored with its first row: the spread profile starts _CLEAR rows above the item.
        placed.append((it, x, y - _CLEAR, _spread(right, _CLEAR)))
    out = []
    for it, x, y_top, _ in placed:
        y = y_top + _CLEAR
        out += [(p, x + dx, y + dy) for p, dx, dy in it.parts] if it.parts else [(it, x, y)]
    return out


def _spread(right: np.ndarray, k: int) -> np.ndarray:
    """Each row's right edge as the furthest over ``k`` rows above and below, padded by ``k``
    rows at both ends, so kerning also keeps clear of ink that is only diagonally adjacent
    (the bar of a 7 over a 2, a comma dipping below a digit)."""
    out = np.concatenate([np.full(k, -np.inf), right, np.full(k, -np.inf)])
    base = out.copy()
    for d in range(1, k + 1):
        np.maximum(out[d:], base[:-d], out=out[d:])
        np.maximum(out[:-d], base[d:], out=out[:-d])
    return out


def _gap(it: _Item, prev: _Item, h: int, rng: np.random.Generator) -> int:
    if it.kind in ("digit", "pair") and prev.kind in ("digit", "pair"):
        return max(2, int(h * rng.uniform(0.06, 0.4)))
    return max(2, int(h * rng.uniform(0.08, 0.25)))


def _kern(px: int, py: int, pright: np.ndarray, y: int, left: np.ndarray, gap: int, pw: int) -> int:
    """The smallest x for an item at row ``y`` whose ink stays ``gap`` px right of the ink of
    an item at (px, py); a negative gap overlaps by that much (0 = just touching)."""
    lo, hi = max(py, y), min(py + len(pright), y + len(left))
    if hi <= lo:
        return px + pw + max(gap, 2)  # no shared rows: ink cannot touch, keep a clear gap
    need = pright[lo - py : hi - py] - left[lo - y : hi - y]
    need = need[np.isfinite(need)]
    if need.size == 0:
        return px + pw + max(gap, 2)
    return int(px + need.max() + 1 + gap)


def _place(
    page: _Page, items: list[_Item], h: int, cursor: list[int] | None
) -> tuple[int, int, int, int] | None:
    """Put the number on the page (rows at the cursor, else anywhere free). Its rect or None."""
    if not items:
        return None
    local = _assemble(items, h, page.angle, page.rng)
    x0 = min(x for _, x, _ in local)
    y0 = min(y for _, _, y in local)
    w = max(x + it.alpha.shape[1] for it, x, _ in local) - x0
    hh = max(y + it.alpha.shape[0] for it, _, y in local) - y0
    cfg, rng = page.cfg, page.rng
    margin = max(3, int(0.25 * h))
    spots: list[tuple[int, int]] = []
    if cursor is not None:
        if cursor[0] + w > cfg.width - 4:
            cursor[0] = int(rng.uniform(0.02, 0.1) * cfg.width)
            cursor[1] += int(h * rng.uniform(1.5, 2.2))
        spots.append((cursor[0], cursor[1] + int(cursor[0] * np.tan(page.angle))))
    spots += [
        (int(rng.integers(0, max(1, cfg.width - w))), int(rng.integers(0, max(1, cfg.height - hh))))
        for _ in range(20)
    ]
    for sx, sy in spots:
        r = (sx, sy, sx + w, sy + hh)
        if page.free(r, margin):
            page.add(
                [
                    Obj(it.alpha, sx + x - x0, sy + y - y0, it.label, it.kind, it.touching)
                    for it, x, y in local
                ]
            )
            if cursor is not None and (sx, sy) == spots[0]:
                cursor[0] = sx + w + int(h * rng.uniform(0.8, 3.0))
            return r
    return None


def _extras(page: _Page, r: tuple[int, int, int, int], h: int) -> None:
    """Marks next to a placed number: underline, a unit word, a printed label, a quote..."""
    rng, rate = page.rng, page.cfg.distractor_rate
    if rng.random() < min(0.9, 0.5 * rate):
        kind = ("underline", "word", "letter", "printed", "quote", "cross")[
            int(rng.choice(6, p=[0.25, 0.25, 0.2, 0.12, 0.1, 0.08]))
        ]
        if kind == "underline":
            style = sample_style(page.family(), rng)
            lines = nondigits.underline(rng, style, h, (r[2] - r[0]) * rng.uniform(0.9, 1.3))
            from digitpad.synth.strokes import rasterise

            ink = trim(rasterise(lines)[0] * style.intensity)
            if ink is None:
                return
            spots = [
                (
                    r[0] - int(rng.integers(0, max(1, h // 4))),
                    r[3] + int(rng.integers(2, max(3, h // 3))),
                )
            ]
        else:
            it = _mark(page, kind, h)
            if it is None:
                return
            ink = it.alpha
            gap = int(h * rng.uniform(0.25, 0.8))
            right = (r[2] + gap, r[3] - ink.shape[0])
            left = (r[0] - gap - ink.shape[1], r[3] - ink.shape[0])
            spots = [right, left] if kind != "printed" else [left, right]
        for sx, sy in spots:
            rect = (sx, sy, sx + ink.shape[1], sy + ink.shape[0])
            if page.free(rect, 2):
                page.add([Obj(ink, sx, sy, NOT_DIGIT, kind)])
                return


def _free_distractor(page: _Page, h0: float) -> None:
    rng = page.rng
    kind = _FREE_KINDS[int(rng.integers(len(_FREE_KINDS)))]
    it = _mark(page, kind, max(6, int(h0 * rng.uniform(0.7, 1.3))))
    if it is None:
        return
    ih, iw = it.alpha.shape
    for _ in range(10):
        sx = int(rng.integers(0, max(1, page.cfg.width - iw)))
        sy = int(rng.integers(0, max(1, page.cfg.height - ih)))
        if page.free((sx, sy, sx + iw, sy + ih), max(3, int(0.2 * h0))):
            page.add([Obj(it.alpha, sx, sy, NOT_DIGIT, kind)])
            return
