"""Non-digit marks that share a page with digits and must never be read as digits.

Handwritten letters and short words (Latin and Cyrillic), quote marks, commas, dots, dashes,
underlines, crosses, scribbles and printed-looking text. Each is rendered in a writing style,
like digits, so the classifier cannot tell them apart by stroke texture alone.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from digitpad.synth.letters import LETTER_BY_CHAR, LETTERS, WORDS
from digitpad.synth.strokes import Polyline, catmull_rom, rasterise
from digitpad.synth.style import FAMILIES, Style, finish_ink, sample_style, skeleton_polylines

KINDS: tuple[str, ...] = (
    "letter", "word", "quote", "comma", "dot", "dash", "underline", "cross", "scribble", "printed",
)  # fmt: skip
# How often each kind is drawn when none is asked for: letters are the hardest negatives.
_WEIGHTS = np.array([0.3, 0.1, 0.09, 0.07, 0.05, 0.09, 0.05, 0.08, 0.09, 0.08])
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

_PRINTED_LATIN = ("Total", "Name", "Date", "Sum", "page", "ref", "Amount", "Invoice", "Note")
_PRINTED_CYR = ("Итого", "Дата", "Сумма", "Имя", "стр", "Номер", "руб", "Подпись")
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


def render(
    rng: np.random.Generator, kind: str | None, height: int, family: str | None = None
) -> tuple[np.ndarray, str]:
    """A mark of ``kind`` (random when None) next to digits ``height`` px tall: (ink, kind).

    Raises ValueError for an unknown kind or family.
    """
    if kind is None:
        kind = KINDS[int(rng.choice(len(KINDS), p=_WEIGHTS))]
    if kind not in KINDS:
        raise ValueError(f"unknown non-digit kind {kind!r}; expected one of {KINDS}")
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown style family {family!r}; expected one of {FAMILIES}")
    fam = family or FAMILIES[int(rng.integers(len(FAMILIES)))]
    style = sample_style(fam, rng)
    if kind == "printed":
        return printed(rng, height), kind
    lines = _RENDERERS[kind](rng, style, height)
    ink, _ = rasterise(lines)
    return finish_ink(ink, style.intensity, style.grain, rng, style.rough), kind


def _letter(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    lt = LETTERS[int(rng.integers(len(LETTERS)))]
    return skeleton_polylines(lt.skeleton, style, max(4.0, h * lt.size), rng)


def _word(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    word = WORDS[int(rng.integers(len(WORDS)))]
    out: list[Polyline] = []
    x = 0.0
    for ch in word:
        lt = LETTER_BY_CHAR[ch]
        lh = max(4.0, h * lt.size)
        lines = skeleton_polylines(lt.skeleton, style, lh, rng)
        # Align letters on a common baseline; descenders reach below it.
        lo = np.min([pl.points.min(axis=0) for pl in lines], axis=0)
        hi = np.max([pl.points.max(axis=0) for pl in lines], axis=0)
        shift = np.array([x - lo[0], h * (1.0 + lt.drop * lt.size) - hi[1]])
        out += [Polyline(pl.points + shift, pl.widths) for pl in lines]
        x += (hi[0] - lo[0]) + h * rng.uniform(0.08, 0.25)
    return out


def _quote(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    n = 1 + int(rng.random() < 0.6)
    length = h * rng.uniform(0.18, 0.35)
    w = max(1.5, style.width_rel * h * 1.3)
    out = []
    for i in range(n):
        x0 = i * max(w * 2.0, length * 0.5)
        lean = rng.normal(0.25, 0.15) * length
        pts = np.array([[x0 + lean, 0.0], [x0, length]])
        # A wedge: thick where the pen lands, thin where it leaves.
        out.append(Polyline(catmull_rom(pts, 6), np.linspace(w * 1.6, w * 0.5, 7)))
    return out


def _comma(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    s = h * rng.uniform(0.15, 0.3)
    w = max(1.5, style.width_rel * h * 1.2)
    pts = np.array([[0.3 * s, 0.0], [0.35 * s, 0.4 * s], [0.0, s]])
    return [Polyline(catmull_rom(pts, 5), np.linspace(w * 1.8, w * 0.6, 11))]


def _dot(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    # A dot is about a pen width across, never a blob as big as a digit's loop.
    pen = float(np.clip(style.width_rel * h, 1.5, 8.0))
    d = min(pen * rng.uniform(1.0, 1.8), max(2.0, 0.2 * h))
    return [Polyline(np.zeros((1, 2)), np.array([d]))]


def _dash(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    length = h * rng.uniform(0.3, 0.9)
    st = replace(style, aspect=length / h, rotation=float(rng.normal(0.0, 0.08)), slant=0.0)
    return skeleton_polylines([[[(0.0, 0.5), (0.5, 0.5), (1.0, 0.5)]]], st, h, rng)


def underline(rng: np.random.Generator, style: Style, h: int, length: float) -> list[Polyline]:
    """A roughly horizontal line ``length`` px long, under a number written ``h`` px tall."""
    st = replace(
        style,
        aspect=length / h,
        rotation=float(rng.normal(0.0, 0.02)),
        slant=0.0,
        warp=style.warp * 0.4,
    )
    return skeleton_polylines([[[(0.0, 0.5), (0.5, 0.5), (1.0, 0.5)]]], st, h, rng)


def _underline(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    return underline(rng, style, h, h * rng.uniform(1.5, 5.0))


def _cross(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    s = h * rng.uniform(0.4, 1.0)
    shape = rng.integers(3)
    if shape == 0:  # x
        skel = [[[(0.0, 0.0), (1.0, 1.0)]], [[(1.0, 0.0), (0.0, 1.0)]]]
    elif shape == 1:  # +
        skel = [[[(0.5, 0.0), (0.5, 1.0)]], [[(0.0, 0.5), (1.0, 0.5)]]]
    else:  # tick
        skel = [[[(0.0, 0.55), (0.35, 1.0)], [(0.35, 1.0), (1.0, 0.0)]]]
    return skeleton_polylines(skel, replace(style, aspect=1.0), s, rng)


def _scribble(rng: np.random.Generator, style: Style, h: int) -> list[Polyline]:
    w = h * rng.uniform(0.6, 2.5)
    sh = h * rng.uniform(0.4, 1.0)
    k = int(rng.integers(5, 14))
    xs = np.sort(rng.uniform(0, w, k)) if rng.random() < 0.7 else rng.uniform(0, w, k)
    ys = np.where(np.arange(k) % 2 == 0, rng.uniform(0, 0.3, k), rng.uniform(0.7, 1.0, k)) * sh
    pts = catmull_rom(np.stack([xs, ys], axis=1), 8)
    base = float(np.clip(style.width_rel * h, 1.0, 8.0))
    return [Polyline(pts, np.full(len(pts), base))]


_RENDERERS = {
    "letter": _letter,
    "word": _word,
    "quote": _quote,
    "comma": _comma,
    "dot": _dot,
    "dash": _dash,
    "underline": _underline,
    "cross": _cross,
    "scribble": _scribble,
}


def printed(rng: np.random.Generator, height: int) -> np.ndarray:
    """A short printed word (letters only, never digits) as ink; Cyrillic when a font has it."""
    # Every random draw happens whether or not a Cyrillic font exists, so the rest of a page
    # is the same on machines with and without one.
    cap = max(6, int(height * rng.uniform(0.35, 0.7)))
    cyrillic = rng.random() < 0.5
    cyr_word = _PRINTED_CYR[int(rng.integers(len(_PRINTED_CYR)))]
    word = _PRINTED_LATIN[int(rng.integers(len(_PRINTED_LATIN)))]
    upper = rng.random() < 0.3
    font = (
        cv2.FONT_HERSHEY_SIMPLEX,
        cv2.FONT_HERSHEY_DUPLEX,
        cv2.FONT_HERSHEY_COMPLEX,
        cv2.FONT_HERSHEY_TRIPLEX,
    )[int(rng.integers(4))]
    weight = rng.uniform(1.0, 2.2)
    font_path = _cyrillic_font()
    if cyrillic and font_path is not None:
        return _pil_text(cyr_word, font_path, cap)
    if upper:
        word = word.upper()
    ss = 2
    scale = cap * ss / 22.0  # Hershey capitals are about 22 px at scale 1
    thick = max(1, round(scale * weight))
    (tw, th), base = cv2.getTextSize(word, font, scale, thick)
    canvas = np.zeros((th + base + 4 * ss, tw + 4 * ss), np.uint8)
    cv2.putText(canvas, word, (2 * ss, th + 2 * ss), font, scale, 255, thick, cv2.LINE_AA)
    small = cv2.resize(
        canvas, (canvas.shape[1] // ss, canvas.shape[0] // ss), interpolation=cv2.INTER_AREA
    )
    return small.astype(np.float32) * (1.0 / 255.0)


@lru_cache(maxsize=1)
def _cyrillic_font() -> Path | None:
    """A system TrueType font with Cyrillic (DejaVu), or None: fonts are never required."""
    for d in _FONT_DIRS:
        if d.is_dir():
            for name in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "LiberationSans-Regular.ttf"):
                hits = sorted(d.rglob(name))
                if hits:
                    return hits[0]
    return None


def _pil_text(text: str, font_path: Path, cap: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    font = _pil_font(str(font_path), int(cap * 1.4))
    x0, y0, x1, y1 = font.getbbox(text)
    img = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(img).text((2 - x0, 2 - y0), text, fill=255, font=font)
    return np.asarray(img, dtype=np.float32) * (1.0 / 255.0)


@lru_cache(maxsize=64)
def _pil_font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)
