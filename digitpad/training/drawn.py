"""Simple drawn test pages: digits written with OpenCV's Hershey fonts, with exact boxes.

Not the synthetic generator (that is ``digitpad.synth``): a small, dependency-free way to make
pages with known ground truth for tests and for a first model. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from digitpad.types import DIGITS, NOT_DIGIT, Annotation, Box, SynthPage

GlyphFn = Callable[[str, int, np.random.Generator], np.ndarray]
# a non-digit mark ``height`` px tall: (ink, kind)
MarkFn = Callable[[int, np.random.Generator], tuple[np.ndarray, str]]

# Printed symbols that sit beside numbers on forms and notes and that the generator draws no
# kin of; the ones a crop cannot tell from a digit ("/", "|", "!", brackets: a leaning or
# curved 1) are left out, so no real 1 is taught as "not a digit".
SYMBOLS = "%&?$#+=@*<>~"

FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
)


def draw_glyph(text: str, height: int, rng: np.random.Generator) -> np.ndarray:
    """``text`` drawn in a random Hershey font, slanted a little: float32 ink, tight crop."""
    font = FONTS[int(rng.integers(len(FONTS)))]
    scale = height / 22.0
    thick = max(1, round(height / rng.uniform(8, 16)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    pad = thick + height // 2
    canvas = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(canvas, text, (pad, pad + th), font, scale, 255, thick, cv2.LINE_AA)
    shear = rng.uniform(-0.25, 0.25)
    m = np.float32([[1, shear, -shear * canvas.shape[0] / 2], [0, 1, 0]])
    canvas = cv2.warpAffine(canvas, m, (canvas.shape[1], canvas.shape[0]))
    ys, xs = np.nonzero(canvas > 40)
    if ys.size == 0:
        return np.zeros((1, 1), np.float32)
    return canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0


def draw_page(
    seed: int,
    *,
    width: int = 1000,
    height: int = 700,
    n_digits: int = 20,
    digit_height: tuple[int, int] = (28, 70),
    distractors: int = 0,
    touching_rate: float = 0.0,
    ink_rgb: tuple[int, int, int] = (20, 20, 30),
    paper_rgb: tuple[int, int, int] = (255, 255, 255),
    glyph: GlyphFn | None = None,
    mark: MarkFn | None = None,
    labels: Sequence[str] = DIGITS,
) -> SynthPage:
    """A page of ``n_digits`` digits laid out in rows (plus optional letters, dots, dashes).

    ``glyph(label, height, rng)`` draws one digit as float ink (default: a Hershey font glyph),
    ``mark(height, rng)`` one distractor (default: a letter, a dot or a dash). Each digit's
    label is drawn from ``labels`` (each entry equally likely: repeat a digit to draw it more
    often); the default draws the ten digits exactly as before the option existed.
    With ``touching_rate`` a digit is pushed against the previous one until their ink touches.
    Ground truth boxes are the tight boxes of each glyph's ink. Deterministic per ``seed``.

    Raises:
        ValueError: ``labels`` is empty or holds anything but the digits "0".."9".
    """
    if not labels or not set(labels) <= set(DIGITS):
        raise ValueError(f"labels must be digits 0-9, got {labels!r}")
    rng = np.random.default_rng(seed)
    glyph = glyph or draw_glyph
    ink = np.zeros((height, width), np.float32)
    anns: list[Annotation] = []
    x, y = 20, 20
    row_h = 0
    items = ["d"] * n_digits + ["x"] * distractors
    rng.shuffle(items)
    prev: Annotation | None = None
    for kind in items:
        h = int(rng.integers(digit_height[0], digit_height[1] + 1))
        touching = False
        if kind == "d":
            label = labels[int(rng.integers(len(labels)))]
            g = glyph(label, h, rng)
            what = "digit"
            touching = prev is not None and prev.is_digit and rng.uniform() < touching_rate
        else:
            g, what = (mark or _distractor)(h, rng)
            label = NOT_DIGIT
        gh, gw = g.shape
        if touching and prev is not None:
            x = prev.box.x1 - max(1, int(0.08 * gw))
        if x + gw + 20 > width:
            x, y = 20, y + row_h + int(rng.integers(15, 40))
            row_h, touching = 0, False
        if y + gh + 10 > height or gw + 40 > width:
            break
        yy = y + int(rng.integers(0, 8))
        region = ink[yy : yy + gh, x : x + gw]
        np.maximum(region, g, out=region)
        ys, xs = np.nonzero(g > 0.15)
        if ys.size == 0:
            continue
        box = Box(
            x + int(xs.min()), yy + int(ys.min()), x + int(xs.max()) + 1, yy + int(ys.max()) + 1
        )
        ann = Annotation(box, label, what, touching)
        if touching and prev is not None and anns and anns[-1] is prev:
            anns[-1] = Annotation(prev.box, prev.label, prev.kind, True)
        anns.append(ann)
        prev = ann
        x += gw + int(rng.integers(int(0.3 * h), int(0.9 * h) + 1))
        row_h = max(row_h, gh + 8)
    paper = np.array(paper_rgb, np.float32)
    pen = np.array(ink_rgb, np.float32)
    rgb = paper * (1.0 - ink[:, :, None]) + pen * ink[:, :, None]
    image = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return SynthPage(image, tuple(anns), seed, {"source": "drawn"})


def draw_symbol(h: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One of ``SYMBOLS`` in a random Hershey font, ``h`` px high: a ``mark`` for draw_page."""
    return draw_glyph(SYMBOLS[int(rng.integers(len(SYMBOLS)))], h, rng), "symbol"


def _distractor(h: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    kind = ("letter", "dot", "dash")[int(rng.integers(3))]
    if kind == "letter":
        return draw_glyph("ABEHKMRWXacdhkmnwx"[int(rng.integers(18))], h, rng), kind
    if kind == "dot":
        r = max(2, h // 12)
        g = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
        cv2.circle(g, (r, r), r, 1.0, -1)
        return g, kind
    t = max(2, h // 12)
    return np.ones((t, int(h * rng.uniform(0.6, 1.5))), np.float32), kind
