"""Training crops, produced exactly as inference produces them.

A page goes through :func:`digitpad.segment.segment` and every box the recogniser would classify
(each segmented box and its touching-digit splits; see :func:`candidate_boxes` for the cuts of
narrow boxes) is cropped with
:func:`digitpad.preprocess.preprocess_boxes` and labelled by matching to the page's ground truth:
a box that overlaps a digit well gets its label, a box that matches nothing (a letter, a dot, two
touching digits as one, a wrong cut) is "not a digit". So training sees what inference sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from digitpad.preprocess import SIZE, preprocess_boxes, preprocess_crop
from digitpad.segment import Segmentation, segment, split_candidates
from digitpad.types import (
    CLASSES,
    MATCH_IOU,
    NOT_DIGIT_INDEX,
    Annotation,
    Box,
    SynthPage,
)

NOT_DIGIT_ID = NOT_DIGIT_INDEX
POSITIVE_IOU = 0.55  # at least this IoU with a digit: that digit's label
NEGATIVE_IOU = 0.35  # below this with every digit: not a digit; in between: ambiguous, skipped
ONE_LIKE_ASPECT = 0.3  # narrower than this (width / height) is shaped like a "1"


def crops_for_boxes(rgb: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Crops (N, 1, 28, 28) for page-pixel ``boxes`` of an RGB page, cut from the segmenter's ink
    map exactly as the recogniser cuts them (so corrections train on what inference sees)."""
    seg = segment(rgb)
    return preprocess_boxes(seg.ink_u8, [seg.to_ink(b) for b in boxes])


def candidate_boxes(seg: Segmentation) -> list[Box]:
    """Every distinct box the recogniser classifies on this page (ink pixels): each segmented box
    and the parts of each of its touching-digit splits.

    Narrow boxes (two parts at most) give the parts of their first cut only: the recogniser
    also tries their other cuts, but a build on all of them read the analysis pages worse (mean
    exact 71.9 % against the first shipped weights' 75.25 %, both with the recogniser of that
    day), so the recipe keeps the first cut.
    """
    seen: dict[Box, None] = {}
    for b in seg.ink_boxes:
        seen.setdefault(b, None)
        for parts in split_candidates(seg.ink_u8, b, every_narrow_cut=False):
            for p in parts:
                seen.setdefault(p, None)
    return list(seen)


def label_boxes(boxes: Sequence[Box], annotations: Sequence[Annotation]) -> np.ndarray:
    """Class ids for page-pixel ``boxes`` by IoU with the annotations; -1 = ambiguous (skip).

    A box holding two digits (touching, kept whole) is "not a digit". A box that matches no
    digit is "not a digit", except a lone thin upright stroke that
    matches no drawn non-digit mark either: a fragment of a broken or wrongly cut digit that
    looks exactly like a "1", and teaching "a plain stroke is not a digit" costs every real 1.
    """
    digits = [a for a in annotations if a.is_digit]
    marks = [a for a in annotations if not a.is_digit]
    out = np.full(len(boxes), NOT_DIGIT_ID, np.int64)
    for i, b in enumerate(boxes):
        best, best_iou = None, 0.0
        for a in digits:
            iou = b.iou(a.box)
            if iou > best_iou:
                best, best_iou = a, iou
        if holds_two(b, digits):
            continue  # two touching digits in one box are not a digit: what splitting fixes
        if best is not None and best_iou >= POSITIVE_IOU:
            out[i] = CLASSES.index(best.label)
        elif best_iou >= NEGATIVE_IOU or _one_like(b, marks):
            out[i] = -1
    return out


def holds_two(box: Box, digits: Sequence[Annotation]) -> bool:
    """``box`` holds most of the ink boxes of two or more digits."""
    inside = 0
    for a in digits:
        inter = box.overlap(a.box)
        if inter > 0 and inter >= 0.6 * a.box.area:
            inside += 1
    return inside >= 2


def truth_reading(
    boxes: Sequence[Box], annotations: Sequence[Annotation]
) -> tuple[np.ndarray, list[str]]:
    """Sure probabilities (N, 11) for page-pixel ``boxes`` from the ground truth, as a perfect
    reader would give them, and each box's kind: "two" (holds most of two digits: "not a
    digit"), "digit" (IoU at least MATCH_IOU with a true digit: that digit) or "other" ("not a
    digit"). Unlike :func:`label_boxes` nothing is skipped: every box the recogniser reads gets
    the reading that the benchmarks count as right."""
    digits = [a for a in annotations if a.is_digit]
    probs = np.zeros((len(boxes), len(CLASSES)), np.float32)
    kinds = []
    for i, b in enumerate(boxes):
        best = max(digits, key=lambda a: b.iou(a.box), default=None)
        if holds_two(b, digits):
            kind, label = "two", NOT_DIGIT_ID
        elif best is not None and b.iou(best.box) >= MATCH_IOU:
            kind, label = "digit", CLASSES.index(best.label)
        else:
            kind, label = "other", NOT_DIGIT_ID
        probs[i, label] = 1.0
        kinds.append(kind)
    return probs, kinds


def _one_like(box: Box, marks: Sequence[Annotation]) -> bool:
    """A thin upright box that is no drawn non-digit mark."""
    thin = box.width < ONE_LIKE_ASPECT * box.height
    return thin and not any(box.iou(m.box) >= 0.5 for m in marks)


def page_crops(page: SynthPage) -> tuple[np.ndarray, np.ndarray]:
    """Labelled crops of every box the recogniser would classify on ``page``, segmented as the
    shipped weights' crops were (``v1_crops``: see :func:`digitpad.segment.segment`)."""
    seg = segment(page.image, v1_crops=True)
    h, w = page.image.shape[:2]
    boxes = candidate_boxes(seg)
    labels = label_boxes([seg.to_page(b, w, h) for b in boxes], page.annotations)
    keep = labels >= 0
    X = preprocess_boxes(seg.ink_u8, [b for b, k in zip(boxes, keep, strict=True) if k])
    return X, labels[keep]


def crops_from_pages(pages: Iterable[SynthPage]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`page_crops` of many pages, concatenated."""
    xs, ys = [], []
    for page in pages:
        X, y = page_crops(page)
        xs.append(X)
        ys.append(y)
    if not xs:
        return np.zeros((0, 1, SIZE, SIZE), np.float32), np.zeros(0, np.int64)
    return np.concatenate(xs), np.concatenate(ys)


def synthetic_crops(n_pages: int, seed: int, config: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Labelled crops the segmenter produces on ``n_pages`` synthetic pages (seeded).

    ``config`` is a :class:`digitpad.synth.pages.PageConfig` (None = its defaults).
    """
    from digitpad.synth.pages import generate_pages

    return crops_from_pages(generate_pages(n_pages, seed, config))


def sklearn_digit_crops(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797, 13 writers), rebuilt as pen bitmaps, preprocessed.

    These are the UCI optdigits *test* writers: real pen-on-paper digits, normalised by NIST's
    form software (each stretched to its box, thick strokes). Each 8x8 image counts the ink pixels
    of 4x4 blocks of a 32x32 bitmap; :func:`bitmap_from_counts` rebuilds a plausible bitmap, so the
    model sees solid, box-filling strokes rather than an 8x8 blur. One seeded variant per digit.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(seed)
    X = np.zeros((len(data.images), 1, SIZE, SIZE), np.float32)
    for i, img in enumerate(data.images):
        X[i, 0] = preprocess_crop(bitmap_from_counts(img, rng))
    return X, data.target.astype(np.int64)


def bitmap_from_counts(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A float ink image (about 128 px high) rebuilt from an 8x8 array of 4x4-block counts 0..16.

    Upsampling the counts and thresholding them gives the bitmap's strokes; the threshold varies
    the pen's width, a small random affine (stretch, shear, turn) the writer's slant, and a
    one-pixel jitter of some rows the ragged edges of a 300-dpi scan.
    """
    import cv2

    soft = cv2.resize((counts / 16.0).astype(np.float32), (32, 32), interpolation=cv2.INTER_CUBIC)
    bits = (soft > rng.uniform(0.35, 0.6)).astype(np.float32)
    for r in np.flatnonzero(rng.random(32) < 0.3):
        bits[r] = np.roll(bits[r], int(rng.choice((-1, 1))))
    big = cv2.resize(bits, (128, 128), interpolation=cv2.INTER_LINEAR)
    sx, shear, turn = rng.uniform(0.8, 1.25), rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1)
    c, s = np.cos(turn), np.sin(turn)
    m = np.array([[c * sx, -s + shear], [s * sx, c]], np.float32)
    # about the bitmap's centre, onto a canvas wide enough for the widest stretch and shear
    # (128 * 1.25 + 128 * 0.25 < 224): no stroke at the bitmap's edge is cut off
    src, dst = np.float32(64.0), np.float32(112.0)
    affine = np.hstack([m, (dst - m @ np.array([src, src]))[:, None]]).astype(np.float32)
    return cv2.warpAffine(big, affine, (224, 224), flags=cv2.INTER_LINEAR)


def synth_glyph(label: str, height: int, rng: np.random.Generator) -> np.ndarray:
    """One digit from the synthetic generator's glyph renderer, as a tight float ink crop."""
    from digitpad.synth.glyphs import render_digit

    return _tight(np.asarray(render_digit(label, rng, height=height), np.float32))


def synth_letter(height: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One handwritten letter from the synthetic generator beside digits ``height`` px tall, as
    float ink cropped to its ink (a letter drawn with no ink comes back uncropped), with its
    kind, "letter": a ``mark`` for :func:`~digitpad.training.drawn.draw_page`.

    Raises:
        ValueError: ``height`` is under 4 px.
    """
    from digitpad.synth.glyphs import render_nondigit

    g, kind = render_nondigit(rng, kind="letter", height=height)
    return _tight(np.asarray(g, np.float32)), kind


def _tight(ink: np.ndarray) -> np.ndarray:
    """``ink`` cropped to its pixels over 0.05 (all of it when it has none)."""
    ys, xs = np.nonzero(ink > 0.05)
    if ys.size == 0:
        return ink
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def glyph_pages(n_pages: int, seed: int, **kwargs: Any) -> Iterable[SynthPage]:
    """Plain pages of the synthetic generator's digit glyphs laid out in rows (clean paper).

    A simple, fast complement to ``digitpad.synth.pages`` (which adds paper, light and lines).
    """
    from digitpad.training.drawn import draw_page

    for i in range(n_pages):
        s = seed * 1_000_003 + i
        rng = np.random.default_rng(s)
        opts = {
            "n_digits": int(rng.integers(5, 40)),
            "digit_height": (int(rng.integers(12, 40)), int(rng.integers(40, 120))),
            "distractors": int(rng.integers(0, 8)),
            "touching_rate": float(rng.choice([0.0, 0.15, 0.4])),
            "glyph": synth_glyph,
            **kwargs,
        }
        yield draw_page(s, **opts)
