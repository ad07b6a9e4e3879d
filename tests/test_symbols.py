"""Printed symbols beside a handwritten number are not digits: "425 %" reads "425".

The shipped recipe learns the symbols of ``drawn.SYMBOLS`` as "not a digit" from Hershey-font
pages; the model before it read "%" as 96, "&" as 8, "?" as 2, "#" as 4 and "@" as 69 (113 of
these 168 Hershey pages and 24 of the 48 in Pillow's own font read right). The pages here use
seeds the build never drew, and a font no build has seen (Aileron, bundled with Pillow).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from digitpad.recognise_service import Recogniser
from digitpad.training.data import synth_glyph
from digitpad.training.drawn import FONTS, SYMBOLS

HEIGHT = 48

Printer = Callable[[str, int], np.ndarray]


def _tight(a: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(a > 40)
    return a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0


def hershey(font: int) -> Printer:
    def draw(text: str, h: int) -> np.ndarray:
        scale, thick = h / 22.0, max(1, round(h / 10))
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        canvas = np.zeros((th + base + h, tw + h), np.uint8)
        cv2.putText(canvas, text, (h // 2, h // 2 + th), font, scale, 255, thick, cv2.LINE_AA)
        return _tight(canvas)

    return draw


def aileron(text: str, h: int) -> np.ndarray:
    font = ImageFont.load_default(size=int(h * 1.3))
    if not isinstance(font, ImageFont.FreeTypeFont):  # a Pillow without FreeType: no Aileron
        pytest.skip("Pillow has no FreeType, so no scalable default font")
    im = Image.new("L", (h * 4, h * 3), 0)
    ImageDraw.Draw(im).text((h // 2, h // 2), text, fill=255, font=font)
    return _tight(np.asarray(im))


def number_and_symbol(symbol: np.ndarray, seed: int, *, after: bool) -> np.ndarray:
    """A handwritten "425" (the generator's glyphs, bottoms on one line) with ``symbol``
    centred on the digits' band after or before it, black on white."""
    rng = np.random.default_rng(seed)
    digits = [synth_glyph(d, HEIGHT, rng) for d in "425"]
    items = [*digits, symbol] if after else [symbol, *digits]
    gap = int(0.35 * HEIGHT)
    ink = np.zeros((3 * HEIGHT, sum(p.shape[1] for p in items) + gap * len(items) + 80))
    x = 40
    for p in items:
        ph, pw = p.shape
        y = HEIGHT + (HEIGHT - ph) // 2 if p is symbol else 2 * HEIGHT - ph
        region = ink[max(0, y) : max(0, y) + ph, x : x + pw]
        np.maximum(region, p[: region.shape[0], : region.shape[1]], out=region)
        x += pw + gap
    return (255 * (1 - ink)).clip(0, 255).astype(np.uint8)


def _misread(rec: Recogniser, printers: list[Printer], seed: int) -> list[tuple[str, str]]:
    """(symbol, reading) of every page not read "425": each symbol drawn by each printer, after
    and before the number, each page's digits drawn from their own seed."""
    wrong = []
    for i, symbol in enumerate(SYMBOLS):
        for j, printer in enumerate(printers):
            for after in (True, False):
                page = number_and_symbol(
                    printer(symbol, HEIGHT), seed + 100 * i + 2 * j + after, after=after
                )
                text = rec.recognise(page).text
                if text != "425":
                    wrong.append((symbol, text))
    return wrong


def test_printed_symbols_in_the_training_fonts_are_not_digits(recogniser: Recogniser) -> None:
    wrong = _misread(recogniser, [hershey(f) for f in FONTS], seed=90_000)
    assert len(wrong) <= 16, wrong  # of 168 pages; 167 read right at the shipping


def test_printed_symbols_in_an_unseen_font_are_mostly_not_digits(recogniser: Recogniser) -> None:
    wrong = _misread(recogniser, [aileron] * 2, seed=95_000)  # one font, two pages' handwriting
    # of 48 pages: 44 right at the shipping ("&", a loop over a stroke, still reads 8)
    assert len(wrong) <= 10, wrong


def test_the_number_alone_reads_right(recogniser: Recogniser) -> None:
    blank = np.zeros((1, 1), np.float32)
    assert recogniser.recognise(number_and_symbol(blank, 90_000, after=True)).text == "425"
