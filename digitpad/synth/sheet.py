"""A contact sheet: one row of synthetic glyphs per class, for eyeballing the generator."""

from __future__ import annotations

import cv2
import numpy as np

from digitpad.synth.glyphs import render_digit, render_nondigit
from digitpad.synth.style import FAMILIES

_LABEL_W = 96


def contact_sheet(seed: int = 0, *, per_class: int = 16, cell: int = 48) -> np.ndarray:
    """An RGB uint8 image: a row per digit 0-9 cycling through the style families, then two
    rows of non-digits; each glyph scaled to fit a ``cell`` x ``cell`` square, dark on white.
    Deterministic for a given seed."""
    if per_class < 1 or cell < 16:
        raise ValueError(f"need per_class >= 1 and cell >= 16, got {per_class}, {cell}")
    rows = []
    for d in range(10):
        crops = []
        for j in range(per_class):
            rng = np.random.default_rng([seed, d, j])
            fam = FAMILIES[j % len(FAMILIES)]
            crops.append(render_digit(str(d), rng, height=int(cell * 0.8), families=[fam]))
        rows.append(_row(str(d), crops, cell))
    for r in range(2):
        crops = [
            render_nondigit(np.random.default_rng([seed, 10 + r, j]), height=int(cell * 0.8))[0]
            for j in range(per_class)
        ]
        rows.append(_row("not digit" if r == 0 else "", crops, cell))
    sheet = np.concatenate(rows, axis=0)
    return np.repeat(sheet[..., None], 3, axis=2)


def _row(title: str, crops: list[np.ndarray], cell: int) -> np.ndarray:
    row = np.full((cell, _LABEL_W + cell * len(crops)), 255, np.uint8)
    cv2.putText(row, title, (6, cell * 2 // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.55, 90, 1, cv2.LINE_AA)
    for j, ink in enumerate(crops):
        h, w = ink.shape
        s = min(1.0, (cell - 4) / max(h, w))
        if s < 1.0:
            ink = cv2.resize(
                ink, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA
            )
        h, w = ink.shape
        y, x = (cell - h) // 2, _LABEL_W + j * cell + (cell - w) // 2
        row[y : y + h, x : x + w] = np.minimum(
            row[y : y + h, x : x + w], (255 * (1.0 - ink)).astype(np.uint8)
        )
    return row
