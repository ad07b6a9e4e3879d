"""Choosing how to read each box: whole, cut into touching digits, or as its pieces apart.

Pure functions over the probabilities the classifier (and its context stage) gave every box
of every reading (see ``recognise_service``): which boxes need no cut read at all
(:func:`settled_boxes`), which may hide a "1" drawn over its neighbour (:func:`stem_boxes`)
and which reading of each box wins (:func:`decide`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.segment import DASH_MAX_HEIGHT
from digitpad.types import NOT_DIGIT_INDEX, NOT_DIGIT_LEVEL, Box

# A reading that splits a box must beat keeping it whole by this much (mean log-probability):
# one confident digit is the simpler explanation.
SPLIT_MARGIN = 0.05
# ...and no part of a split may be surely "not a digit". A letter cut in two (the stem and
# bowl of a P, the strokes of an m) gives one part that reads as a digit and one that does not.
# Touching digits cut right should give digits only, but the classifier often doubts the part
# of a cut that holds a "1" or the right-hand digit (the stroke of the neighbour left on it):
# at 0.5 both digits of "21" or "48" were lost when that part read 0.6-0.85 "not a digit".
# 0.9 finds 40 more touching digits of the 1,600 fresh pages for 9 more extra boxes (census;
# touching F1 0.952 -> 0.959 and box F1 up on all 8 sets; see benchmarks/HISTORY.md).
SPLIT_PART_MAX_NOT_DIGIT = 0.9
# ...unless that part is a dash touching the digit ("0-8" drawn in one go): flat, at most
# DASH_MAX_HEIGHT of the digit's height (the segmenter's own limit for a dash), and in its
# middle band. A letter cut apart leaves no such part.

# A split that wins is touching digits: its part only doubted ("not a digit" at
# NOT_DIGIT_LEVEL, under the veto) is still a digit when its best digit has at least this. It
# is most often the "1" of a pair, which the stroke of its neighbour left on it makes look like
# a fragment; dropped, it took its whole number with it, or left its neighbour alone in a
# "word" (fresh pages 9.6-10.3 M: 77.81 -> 78.19 %, 6 pages more and none fewer; at 0.15 as
# many pages lost as won: the best digit of a doubted part is often the wrong one). Under 0.45
# it is as often a piece of a letter cut apart (the leg of an M read "1" at 0.34) as a digit
# (0.3 -> 0.45: 50 pages won, 19 lost of 17,600; benchmarks/HISTORY.md, 2026-12-07). Its
# confidence stays as low as the classifier said, so the app shows it for review.
SPLIT_PART_KEEP_DIGIT = 0.45


# A box read "not a digit" (NOT_DIGIT_LEVEL) may be a "1" drawn over its neighbour's edge
# (see segment.stem_cuts). A cut beside the stem is a fallback: tried where the box's own
# readings lose ink (a part dropped, or read under 0.5), and taken only when the rest reads a
# digit at STEM_REST_SURE or more and the stem reads "1" best. Letters cut so (the stem of an
# M, a U, a R) leave a rest read less surely: without these two tests such pages were lost
# about as often as pages were won (a letter's corner is not cut at all: segment.STEM_END).
# Since 2026-12-07 (night) every box not read surely (STEM_WHOLE_MAX) gets these fallbacks, so
# a box read as a digit whose winning cut loses ink may take one too; the pages measured for
# STEM_BESIDE_ONE include that.
STEM_REST_SURE = 0.9
# A box read as a digit may also hold a "1": the "1" of "21" or "81" that its neighbour's stroke
# runs into reads as the neighbour alone, and the page loses the "1". A cut beside the stem is
# taken instead of the whole when the rest reads the whole's digit at STEM_REST_SURE or more
# with at most STEM_REST_DOUBT of the whole's doubt (1 - p), so the stem was no part of that
# digit, and the stem reads "1" best of the digits at STEM_BESIDE_ONE or more (cut so, its crop
# holds the neighbour's stroke, and it is seldom read surely). A digit's own stem cut off (the
# upright of a 4 or a 9) mostly leaves a rest read less surely than the whole: without that
# test such a stroke was cut off and read "1" more often than a "1" was won (+10 -15 pages on
# 32.x); a 2 cut down its right side read 0.996 against 0.994 whole, a margin that is no
# evidence. Pages won and lost against the box read
# whole: +10 -2 on the pages where it was worked out (32.0-32.3 M), +3 -2 on 33.0-33.3 M, +9 -0
# on the fresh sets 9.6-10.3 M and +4 -2 on 29.0-29.7 M (STEM_REST_DOUBT was set after those
# three had been read: it turned one page of them from lost to read; HISTORY, 2026-12-07 night).
STEM_BESIDE_ONE = 0.1
STEM_REST_DOUBT = 0.5
# Only a box whose best digit reads under STEM_WHOLE_MAX has its stem cuts read: a rest can
# hardly read more surely than that, and the crops of every box's cuts would cost every page.
STEM_WHOLE_MAX = 0.995


@dataclass(frozen=True)
class Candidate:
    """One segmented box and the alternative ways of reading it (ink pixels).

    ``readings[0]`` is always the box kept whole; the others split it into touching digits or
    its pieces apart. ``fallbacks`` (a stem cut off, see ``STEM_REST_SURE``) are read with the
    other parts of cuts but taken only when sure: when the best of ``readings`` loses ink, or
    when it is the box whole, read as the digit that the rest of the cut reads more surely
    (see ``STEM_BESIDE_ONE``).
    """

    box: Box
    readings: tuple[tuple[Box, ...], ...]
    fallbacks: tuple[tuple[Box, ...], ...] = ()


def settled_boxes(boxes: list[Box], probs: np.ndarray) -> frozenset[Box]:
    """The boxes whose whole reading no split can beat, given their probabilities ``probs``.

    A split scores a mean of logs of probabilities, never above 0, and must beat the whole
    reading's score plus ``SPLIT_MARGIN``; when that is already 0 or more, trying splits can
    change nothing, so their crops need not be cut or classified.
    """
    logs = _log_best(probs)
    return frozenset(b for i, b in enumerate(boxes) if float(logs[i]) + SPLIT_MARGIN >= 0.0)


def stem_boxes(boxes: list[Box], probs: np.ndarray) -> frozenset[Box]:
    """The boxes that may hide a "1" drawn over its neighbour's edge, given their probabilities
    ``probs``: those whose best digit reads under ``STEM_WHOLE_MAX`` (every box read "not a
    digit" among them; see ``STEM_REST_SURE`` and ``STEM_BESIDE_ONE``). Only these get stem
    cuts to read, which saves the crops of the rest; :func:`decide` takes whatever fallbacks a
    candidate has."""
    best = probs[:, :NOT_DIGIT_INDEX].max(axis=1)
    return frozenset(b for i, b in enumerate(boxes) if best[i] < STEM_WHOLE_MAX)


def decide(
    candidates: list[Candidate], boxes: list[Box], probs: np.ndarray
) -> list[tuple[Box, np.ndarray]]:
    """Pick the best reading of every candidate; return its parts with their probabilities.

    A reading scores the mean log of its parts' best digit probabilities (a geometric mean, so
    readings with different numbers of parts compare fairly); the whole box wins unless a split
    beats it by ``SPLIT_MARGIN``. A whole box
    that the classifier calls "not a digit" still competes: two touching digits are not one.
    A split with a part surely "not a digit" (over ``SPLIT_PART_MAX_NOT_DIGIT``) is no
    reading of touching digits and never wins; a part only doubted (read "not a digit" at
    ``NOT_DIGIT_LEVEL``) scores its best digit like any other, and is returned as a digit
    when that has at least ``SPLIT_PART_KEEP_DIGIT`` ("not a digit" zeroed). Unless every
    doubted part is a dash drawn on into a digit (see :func:`_dashes_of_digits`): each then
    scores its "not a digit" probability and is returned as it is, for
    :func:`~digitpad.recognise_service.to_digits` to drop. When the parts picked lose ink (one
    is dropped, or reads no digit at 0.5), the candidate's sure ``fallbacks`` (see
    ``STEM_REST_SURE``) compete too; when the box is kept whole as a digit, a fallback whose
    stem was no part of that digit (see ``STEM_BESIDE_ONE``) replaces it.

    Raises:
        KeyError: a box of a reading or of a fallback is not in ``boxes``.
    """
    scores = _Scores(boxes, probs)
    out: list[tuple[Box, np.ndarray]] = []
    for c in candidates:
        parts = scores.pick(c.readings)
        if c.fallbacks and _loses_ink(parts):
            sure = tuple(r for r in c.fallbacks if scores.sure_stem(r))
            if sure:
                parts = scores.pick((*c.readings, *sure))
        elif c.fallbacks and [b for b, _ in parts] == [c.box]:
            parts = scores.stem_beside(c.box, c.fallbacks) or parts
        out.extend(parts)
    return out


class _Scores:
    """What :func:`decide` needs of every box's probabilities, computed once per page."""

    def __init__(self, boxes: list[Box], probs: np.ndarray) -> None:
        self.probs = probs
        self.row = {b: i for i, b in enumerate(boxes)}
        self.logs = _log_best(probs)
        self.doubted = probs[:, NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL
        self.vetoes = probs[:, NOT_DIGIT_INDEX] > SPLIT_PART_MAX_NOT_DIGIT
        # a dash part of a split scores how surely it is no digit; any other part, its best digit
        nd_logs = np.log(np.maximum(probs[:, NOT_DIGIT_INDEX], 1e-6))
        self.dash_logs = np.where(self.doubted, nd_logs, self.logs)

    def pick(self, readings: tuple[tuple[Box, ...], ...]) -> list[tuple[Box, np.ndarray]]:
        """The parts of the best of ``readings`` (``readings[0]`` the box whole), as decided."""
        row, probs = self.row, self.probs
        best, best_score = readings[0], _score(readings[0], row, self.logs) + SPLIT_MARGIN
        best_dashes = False
        for reading in readings[1:]:
            odd = [b for b in reading if self.doubted[row[b]]]
            dashes = bool(odd) and _dashes_of_digits(reading, odd)
            if not dashes and any(self.vetoes[row[b]] for b in odd):
                continue
            s = _score(reading, row, self.dash_logs if dashes else self.logs)
            if s > best_score:
                best, best_score, best_dashes = reading, s, dashes
        if best is readings[0] or best_dashes:  # kept whole, or a digit and its dash
            return [(b, probs[row[b]]) for b in best]
        return [(b, _as_digit(probs[row[b]])) for b in best]

    def stem_beside(
        self, box: Box, fallbacks: tuple[tuple[Box, ...], ...]
    ) -> list[tuple[Box, np.ndarray]] | None:
        """The parts of the surest of ``fallbacks`` whose stem is a "1" beside the digit that
        ``box`` reads whole (see ``STEM_BESIDE_ONE``), left to right, the stem's "not a digit"
        zeroed and its digits left as read (so its "1" shows as unsure as it was read); None
        when there is none. A fallback of other than two parts is no stem cut and is passed
        over."""
        whole = self.probs[self.row[box]]
        digit = int(whole[:NOT_DIGIT_INDEX].argmax())
        best, best_score = None, -np.inf
        for reading in fallbacks:
            parts = self._stem_and_rest(reading)
            if parts is None:
                continue
            stem, ps, pr = parts
            if (
                pr[digit] < STEM_REST_SURE  # at 0.9 or more it is also the rest's best digit
                or 1.0 - pr[digit] > STEM_REST_DOUBT * (1.0 - whole[digit])
                or int(ps[:NOT_DIGIT_INDEX].argmax()) != 1
                or ps[1] < STEM_BESIDE_ONE
            ):
                continue
            score = float(np.log(pr[digit]) + np.log(ps[1]))
            if score > best_score:
                one = _without_not_digit(ps)
                best, best_score = [(b, one if b == stem else pr) for b in reading], score
        return best

    def sure_stem(self, reading: tuple[Box, ...]) -> bool:
        """A stem cut off (two parts, the narrower the stem) reads surely: the rest a digit at
        ``STEM_REST_SURE`` (so "not a digit" under 0.1), the stem "1" best of the digits. A stem
        doubted under ``SPLIT_PART_KEEP_DIGIT`` stays "not a digit" and is dropped: the rest,
        which the box lost with it, is still won."""
        parts = self._stem_and_rest(reading)
        if parts is None:
            return False
        _, ps, pr = parts
        return (
            float(pr[:NOT_DIGIT_INDEX].max()) >= STEM_REST_SURE
            and int(ps[:NOT_DIGIT_INDEX].argmax()) == 1
        )

    def _stem_and_rest(self, reading: tuple[Box, ...]) -> tuple[Box, np.ndarray, np.ndarray] | None:
        """A stem cut's stem (the narrower of its two parts), the stem's probabilities and the
        rest's; None for a reading of other than two parts, which is no stem cut."""
        if len(reading) != 2:
            return None
        stem, rest = sorted(reading, key=lambda b: b.width)
        return stem, self.probs[self.row[stem]], self.probs[self.row[rest]]


def _loses_ink(parts: list[tuple[Box, np.ndarray]]) -> bool:
    """Some part is dropped ("not a digit" at ``NOT_DIGIT_LEVEL``) or reads no digit at 0.5."""
    return any(
        p[NOT_DIGIT_INDEX] >= NOT_DIGIT_LEVEL or p[:NOT_DIGIT_INDEX].max() < 0.5 for _, p in parts
    )


def _as_digit(p: np.ndarray) -> np.ndarray:
    """The probabilities of a part of a winning split: a doubted part whose best digit has at
    least ``SPLIT_PART_KEEP_DIGIT`` has "not a digit" zeroed (a copy), any other is as read."""
    if p[NOT_DIGIT_INDEX] < NOT_DIGIT_LEVEL or p[:NOT_DIGIT_INDEX].max() < SPLIT_PART_KEEP_DIGIT:
        return p
    return _without_not_digit(p)


def _without_not_digit(p: np.ndarray) -> np.ndarray:
    """A copy of ``p`` with "not a digit" zeroed and the digits as read (not renormalised, so
    a part kept as a digit shows as unsure as it was read)."""
    out = p.copy()
    out[NOT_DIGIT_INDEX] = 0.0
    return out


def _dashes_of_digits(reading: tuple[Box, ...], odd: list[Box]) -> bool:
    """Every ``odd`` part of ``reading`` is a dash beside its digits: flat, at most
    ``DASH_MAX_HEIGHT`` of the tallest digit part high, centred in its middle band."""
    digits = [b for b in reading if b not in odd]
    if not digits:
        return False
    top = max(digits, key=lambda b: b.height)
    for b in odd:
        mid = (b.y0 + b.y1) / 2
        if (
            b.height > DASH_MAX_HEIGHT * top.height
            or b.width < b.height
            or not top.y0 + 0.3 * top.height <= mid <= top.y0 + 0.7 * top.height
        ):
            return False
    return True


def _log_best(probs: np.ndarray) -> np.ndarray:
    """Per row of ``probs``: the log of its best digit probability (floored at 1e-6), float32."""
    return np.log(np.maximum(probs[:, :NOT_DIGIT_INDEX].max(axis=1), 1e-6))


def _score(reading: tuple[Box, ...], row: dict[Box, int], logs: np.ndarray) -> float:
    """The mean of the parts' ``logs`` (float32, as one array: the same sum for any caller)."""
    if len(reading) == 1:
        return float(logs[row[reading[0]]])
    return float(np.mean(logs[[row[b] for b in reading]]))
